import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('FOUNDRY_SHARED_DATA', ROOT.parent / 'shared' / 'data'))

@pytest.fixture(scope='session')
def shared_data():
    "The real sample data folder `../shared/data` (skips where it is absent, e.g. on a user's machine)."
    if not SHARED.exists(): pytest.skip(f'real sample data not found at {SHARED} (set FOUNDRY_SHARED_DATA); it exists only on the development machines and CI')
    return SHARED

@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    "Each test generates synthetic data into its own cache folder."
    monkeypatch.setenv('FOUNDRY_CACHE', str(tmp_path / 'cache'))
