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

def rejection(nb_path, params:dict):
    """Run a notebook's cells in this process as papermill would (`params` assigned right after the cell tagged
    `parameters`, the notebook's folder as working directory), up to its last parameter check; return the exception
    a check raised, or None. A kernel start per bad parameter costs seconds; this costs a fraction of one."""
    import json, torch
    from execnb.shell import CaptureShell
    cells = [c for c in json.loads(Path(nb_path).read_text())['cells'] if c['cell_type'] == 'code']
    srcs = [''.join(c['source']) for c in cells]
    i_par = next(i for i, c in enumerate(cells) if 'parameters' in c.get('metadata', {}).get('tags', []))
    last = max(i for i, s in enumerate(srcs) if any(k in s for k in ('check(', 'validate(', 'check_device(', 'raise ValueError')))
    code = srcs[:i_par + 1] + ['\n'.join(f'{k} = {v!r}' for k, v in params.items())] + srcs[i_par + 1:last + 1]
    shell, cwd, threads = CaptureShell(), os.getcwd(), torch.get_num_threads()
    os.chdir(Path(nb_path).parent)
    try:
        for s in code:
            shell.run(s)
            if shell.exc is not None: return shell.exc
    finally: os.chdir(cwd); torch.set_num_threads(threads)
    return None
