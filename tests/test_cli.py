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
    for verb in ([], ['embed'], ['info'], ['distill'], ['export'], ['bench']):
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

def test_distill_real_shapes_equals_the_api_and_resumes(shared_data, tmp_path):
    "A student from a folder of real meshes and scans, as a subprocess; equal to the Python API's; an interrupted run resumed gives the same weights."
    from foundry_nb.cli import main
    from foundry_nb.student import load_student
    from foundry_nb.teacher import fingerprint
    d = tmp_path / 'scans'
    d.mkdir()
    for f in sorted((shared_data / 'modelnet10' / 'ModelNet10').rglob('*.off'))[:6] + [shared_data / 'pcl_scans' / 'bun0.pcd', shared_data / 'meshes' / 'bunny.ply']:
        shutil.copy(f, d / f.name)
    args = ['distill', '--data', d, '--s', '4', '--epochs', '2', '--batch-size', '4', '--points', '512', '--views', '1', '--quiet', '--device', 'cpu']
    r = cli(*args, '--out', tmp_path / 'cli.pt')
    assert r.returncode == 0 and 'estimate, teacher targets' in r.stdout, r.stderr[-2000:]
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(2)                                                        # as the subprocess (cli): the same arithmetic
    try: assert main([str(a) for a in args] + ['--out', str(tmp_path / 'api.pt')]) == 0
    finally: torch.set_num_threads(threads)
    fp = fingerprint(load_student(tmp_path / 'cli.pt'))
    assert fp == fingerprint(load_student(tmp_path / 'api.pt'))
    r = cli(*args, '--out', tmp_path / 'cut.pt', '--max-steps', '1')
    assert r.returncode == 0 and 'run the same command again' in r.stdout and not (tmp_path / 'cut.pt').exists(), r.stderr[-2000:]
    assert cli(*args, '--out', tmp_path / 'cut.pt').returncode == 0
    assert fingerprint(load_student(tmp_path / 'cut.pt')) == fp

@pytest.mark.parametrize('fmt', ['pointmae', 'pointbert', 'custom'])
def test_distill_from_other_teachers(tmp_path, fmt):
    "Point-MAE and Point-BERT layouts (the student starts from their weights) and a user's own module (a fresh student of its width), through the same command."
    import torch
    from foundry_nb.shapes import sample_shape
    from foundry_nb.student import load_student
    from foundry_nb.teacher import official_state_dict
    (tmp_path / 'in').mkdir()
    for i in range(4): np.save(tmp_path / 'in' / f'{i}.npy', sample_shape(('chair', 'table')[i % 2], 2048, seed=i)['points'])
    if fmt == 'custom':
        (tmp_path / 'mine.py').write_text("import torch.nn as nn\nclass Mine(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.lin = nn.Linear(3, 40)\n"
                                          "    def forward(self, p):\n        C = p[:, ::16]\n        return {'tokens': self.lin(C), 'centers': C}\n")
        teacher = f"{tmp_path / 'mine.py'}:Mine"
    else:
        torch.save(official_state_dict(fmt), tmp_path / f'{fmt}.pth')
        teacher = tmp_path / f'{fmt}.pth'
    r = cli('distill', '--teacher', teacher, '--data', tmp_path / 'in', '--s', '4', '--epochs', '1', '--batch-size', '4', '--points', '256', '--views', '1',
            '--quiet', '--device', 'cpu', '--out', tmp_path / 'st.pt')
    assert r.returncode == 0, r.stderr[-2000:]
    st = load_student(tmp_path / 'st.pt')
    want = (40, 16) if fmt == 'custom' else (384, 64)                                 # width d and token count c follow the teacher
    assert (st.cfg.teacher['dim'], st.cfg.teacher['num_groups']) == want and st.meta['foreign_teacher'] == (fmt == 'custom')
    assert ('fresh 40-wide encoder' in r.stdout) == (fmt == 'custom')

def test_export_and_bench_as_a_user_runs_them(tmp_path):
    "The ONNX file the command writes gives the kit's own features on clouds of any batch and size; bench prints a table with spreads."
    import torch
    from foundry_nb.export import run_onnx, reference
    from foundry_nb.student import embedded_student
    r = cli('export', 's1', tmp_path / 's1.onnx', '--int8')
    assert r.returncode == 0 and 'largest difference' in r.stdout and (tmp_path / 's1.int8.onnx').exists(), r.stderr[-2000:]
    x = torch.rand(4, 1500, 3, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for a, b in zip(run_onnx(tmp_path / 's1.onnx', x.numpy()), reference(embedded_student('s1'), x)):
        assert np.abs(a - b.numpy()).max() < 1e-4
    r = cli('bench', 'teacher', 's1', '--runs', '3', '--batch', '2')
    assert r.returncode == 0 and 'speed-up over teacher' in r.stdout and 'IQR' in r.stdout, r.stderr[-2000:]

def test_scans_with_missing_returns(tmp_path):
    "An organised depth scan marks missing returns NaN: embed drops and counts them by default; --nan raise names the file and the count."
    from foundry_nb.shapes import sample_shape
    p = sample_shape('mug', 3000, seed=0)['points']
    p[::3] = np.nan
    np.savetxt(tmp_path / 'organised.xyz', p)
    r = cli('embed', tmp_path / 'organised.xyz', '--out', tmp_path / 'out', '--no-view', '--quiet')
    assert r.returncode == 0 and '1,000 NaN dropped' in r.stdout, r.stdout + r.stderr[-2000:]
    r = cli('embed', tmp_path / 'organised.xyz', '--out', tmp_path / 'out', '--nan', 'raise')
    assert r.returncode == 2 and 'organised.xyz: 1000 of 3000 points have NaN/inf' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

def test_embed_a_folder_with_the_teacher(tmp_path):
    from foundry_nb.shapes import sample_shape
    (tmp_path / 'in').mkdir()
    for c in ('chair', 'table'): np.save(tmp_path / 'in' / f'{c}.npy', sample_shape(c, 2048, seed=0)['points'])
    r = cli('embed', tmp_path / 'in', '--model', 'teacher', '--out', tmp_path / 'out', '--no-view', '--quiet')
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == ['chair.npz', 'table.npz']

@pytest.mark.parametrize('args,needle', [(['embed', 'nope.ply'], 'no such file'), (['embed', '.', '--model', 'x.pt'], 'no such file'),
                                         (['embed', '.', '--model', 's99'], "expected a shipped teacher (teacher"), (['embed', '.', '--points', '3'], '--points'),
                                         (['embed', '.', '--device', 'cuda'], 'CUDA'), (['info', 'nope.pt'], 'no such model file'),
                                         (['distill', '--data', '.', '--out', 's.pt', '--s', '0'], '--s must be at least 1'),
                                         (['distill', '--data', '.', '--out', 's.pt', '--s', '65'], 'choose 1 to 64'),
                                         (['distill', '--data', 'nope', '--out', 's.pt'], 'no such file or folder'),
                                         (['distill', '--data', '.', '--out', 's.pt', '--teacher', 'nope.pt'], 'no such file'),
                                         (['distill', '--data', '.', '--out', 'student'], 'ending in .pt'),
                                         (['distill', '--data', '.', '--out', 's.pt'], 'a piece of at least 32 points'),
                                         (['export', 's16', 'out.pt'], 'ends in .onnx'), (['export', 'nope.pt', 'out.onnx'], 'no such file'),
                                         (['export', 'gate_s16', 'out.onnx', '--budget', '99'], 'an int from 0 to c=64'), (['bench', 's16', '--batch', '0'], '--batch must be')])
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
    from foundry_nb.cli import model_card, shipped_teachers
    from foundry_nb.student import ASSETS, embedded_students
    for name in shipped_teachers() + embedded_students():
        card = ASSETS / f'card_{name}.md'
        assert card.exists(), f'{card} missing: run python -c "from foundry_nb.cli import write_cards; write_cards()"'
        assert card.read_text() == model_card(name, ROOT / 'figures'), f'{card.name} is out of date with figures/: regenerate it (write_cards)'

def test_info_prints_the_card(tmp_path):
    r = cli('info', 's16', cwd=tmp_path)                                          # no figures/ here: the card shipped in the package
    assert r.returncode == 0 and r.stdout.startswith('# Model card: s16') and 'Known limits' in r.stdout, r.stderr
