"""The `foundry-nb` command as a user runs it: a subprocess on the real files of ../shared/data and on a folder, with
outputs equal to the Python API's; bad input is one line and a non-zero exit; the model cards match their JSON."""
import os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pytest
from conftest import ROOT

def cli(*args, cwd=None):
    exe = shutil.which('foundry-nb', path=str(Path(sys.executable).parent))         # the installed console script where it exists
    cmd = [exe] if exe else [sys.executable, '-m', 'foundry_nb.cli']
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=900, cwd=cwd, env=dict(os.environ, OMP_NUM_THREADS='2'))

def test_console_script_installed():
    assert shutil.which('foundry-nb', path=str(Path(sys.executable).parent)), "`pip install -e .` should put foundry-nb next to this python (settings.ini console_scripts)"

def test_help_on_every_verb():
    for verb in ([], ['embed'], ['info']):
        r = cli(*verb, '--help'); assert r.returncode == 0 and 'usage: foundry-nb' in r.stdout, r.stderr

def test_embed_real_files_equals_the_api(shared_data, tmp_path):
    from foundry_nb.cli import embed_cloud
    from foundry_nb.loaders import load_point_cloud
    from foundry_nb.student import embedded_student
    from foundry_nb.teacher import load_teacher
    files = [shared_data / 'pcl_scans' / 'bun0.pcd', shared_data / 'meshes' / 'bunny.ply', shared_data / 'meshes' / 'ballA.off',
             shared_data / 'kitti/train/sequences/00/velodyne/000000.bin']
    r = cli('embed', *files, '--out', tmp_path / 'out', '--quiet')
    assert r.returncode == 0, r.stderr[-2000:]
    assert '| file |' in r.stdout and 'bun0.pcd' in r.stdout
    s16, teacher = embedded_student('s16'), load_teacher()
    for f in files[:3]:
        z = np.load(tmp_path / 'out' / f'{f.stem}.npz')
        api = embed_cloud(s16, load_point_cloud(f)['points'], teacher=teacher)
        assert np.array_equal(z['pooled'], api['pooled']) and np.array_equal(z['supertoken'], api['supertoken'])
    k = np.load(tmp_path / 'out' / '000000.npz')
    assert len(k['n']) > 10 and k['n'].sum() == len(k['piece_of_point'])          # a 124k-point LiDAR frame: object-scale pieces

def test_embed_a_folder_with_the_teacher(tmp_path):
    from foundry_nb.shapes import sample_shape
    (tmp_path / 'in').mkdir()
    for c in ('chair', 'table'): np.save(tmp_path / 'in' / f'{c}.npy', sample_shape(c, 2048, seed=0)['points'])
    r = cli('embed', tmp_path / 'in', '--model', 'teacher', '--out', tmp_path / 'out', '--no-view', '--quiet')
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == ['chair.npz', 'table.npz']

@pytest.mark.parametrize('args,needle', [(['embed', 'nope.ply'], 'no such file'), (['embed', '.', '--model', 'x.pt'], 'no such file'),
                                         (['embed', '.', '--model', 's99'], "expected 'teacher'"), (['embed', '.', '--points', '3'], '--points'),
                                         (['embed', '.', '--device', 'cuda'], 'CUDA'), (['info', 'nope.pt'], 'no such model file')])
def test_bad_input_is_one_line(tmp_path, args, needle):
    (tmp_path / 'a.xyz').write_text('0 0 0\n1 1 1\n2 2 2\n')
    if args[1:2] == ['--device'] or '--device' in args:
        import torch
        if torch.cuda.is_available(): pytest.skip('CUDA present')
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1 and 'Traceback' not in r.stderr, r.stderr
    d = cli('--debug', *args, cwd=tmp_path)
    assert d.returncode != 0 and 'Traceback' in d.stderr

def test_shipped_cards_match_their_json():
    from foundry_nb.cli import model_card
    from foundry_nb.student import ASSETS, embedded_students
    for name in ['teacher'] + embedded_students():
        card = ASSETS / f'card_{name}.md'
        assert card.exists(), f'{card} missing: run python -c "from foundry_nb.cli import write_cards; write_cards()"'
        assert card.read_text() == model_card(name, ROOT / 'figures'), f'{card.name} is out of date with figures/: regenerate it (write_cards)'

def test_info_prints_the_card(tmp_path):
    r = cli('info', 's16', cwd=tmp_path)                                          # no figures/ here: the card shipped in the package
    assert r.returncode == 0 and r.stdout.startswith('# Model card: s16') and 'Known limits' in r.stdout, r.stderr
