"""The paper path, end to end: every `params/paper_*.yaml` executed by papermill exactly as `params/README.md` says,
with a second `-f` file that points it at a small fixture in the official layouts (ShapeNet55, ShapeNetPart,
ModelNetFewshot pickles) and a ViT-S checkpoint in the released Point-JEPA Lightning layout, on CPU, with epochs and
sizes shrunk. The students the few-shot and transfer files need are distilled first by the paper distillation file."""
import json, re, shlex, subprocess, sys
from pathlib import Path
import pytest, yaml
from foundry_nb.report import render_results
from paper_fixture import paper_fixture
from conftest import ROOT, SHARED

SMALL = dict(device='cpu', threads=2, num_workers=2, n_points=512)
OVERRIDES = {   # epochs and sizes shrunk; everything else is the paper file's
    'distill': dict(s_list=[1, 16], epochs=1, batch_size=6, latency_runs=1),
    'ablations': dict(s_list=[4], compressors=['dso', 'fps'], residual_off_s=[], paper_dso_s=[4], distill_epochs=1, batch_size=6, finetune_epochs=1,
                      finetune_frozen_epochs=0, finetune_votes=2, seg_epochs=1, seg_points=64, seg_widths=[16, 8]),
    'fewshot': dict(settings=['5way10shot'], folds=1, epochs=1, seeds=[0], real_folds=1),
    'transfer': dict(seeds=[0], specialist_s=4, distill_epochs=1, epochs=1, batch_size=6, seg_points=64, seg_widths=[16, 8]),
    'efficiency': dict(device='cpu', threads=2, runs=1, n_points=512, scaling_points=[1000, 4000], measure_limit_gb=1.0, paper_groups=128, paper_s=[1],
                       paper_gate_budgets=[16], paper_batches=[1], precisions=['fp32'], paper_runs=1, probe_per_class=4, students=['s1']),
}
TITLES = dict(ablations='### Ablations', fewshot='### Few-shot', efficiency='### Efficiency', transfer='### Generalist vs specialists')

def readme_commands()->dict:
    "The papermill command of each paper file, as params/README.md gives it."
    cmds = re.findall(r'`(papermill --cwd nbs -f params/paper_(\w+)\.yaml nbs/\w+\.ipynb runs/paper/\w+\.ipynb)`', (ROOT / 'params' / 'README.md').read_text())
    return {nb: c for c, nb in cmds}

def test_readme_lists_every_paper_file_with_its_make_target():
    files = sorted(p.stem[len('paper_'):] for p in (ROOT / 'params').glob('paper_*.yaml'))
    cmds = readme_commands(); make = (ROOT / 'Makefile').read_text()
    assert sorted(cmds) == files, (sorted(cmds), files)
    for nb, c in cmds.items():
        assert (ROOT / 'nbs' / f'{nb}.ipynb').exists() and f'nbs/{nb}.ipynb runs/paper/{nb}.ipynb' in c
        assert (f'params/paper_{nb}.yaml' in make) or ('params/paper_$*.yaml' in make and f'paper-{nb}' in make), nb

@pytest.mark.parametrize('nb', ['distill', 'ablations', 'fewshot', 'transfer', 'efficiency'])
def test_paper_file_values_are_parameters_of_its_notebook(nb):
    "A misspelt key in a paper file would be injected by papermill and silently ignored: every key must be a parameter."
    import nbformat
    cell = next(c for c in nbformat.read(ROOT / 'nbs' / f'{nb}.ipynb', as_version=4).cells if 'parameters' in c.metadata.get('tags', []))
    names = set(re.findall(r'^(\w+)\s*=', cell.source, re.M)) | {n.strip() for l in re.findall(r'^([\w, ]+)\s*=', cell.source, re.M) for n in l.split(',')}
    keys = set(yaml.safe_load((ROOT / 'params' / f'paper_{nb}.yaml').read_text()))
    assert keys <= names, f'paper_{nb}.yaml keys that are not parameters of {nb}.ipynb: {sorted(keys - names)}'
    assert not (set(OVERRIDES[nb]) - names), sorted(set(OVERRIDES[nb]) - names)

@pytest.fixture(scope='module')
def paper(tmp_path_factory):
    root = tmp_path_factory.mktemp('paper')
    return root, paper_fixture(root / 'data', SHARED if SHARED.exists() else None)

def run_paper_file(nb, root, fx, extra):
    "Run the README's command for `nb` with one more -f file (paths into the fixture, sizes shrunk)."
    over = {**(SMALL if nb != 'efficiency' else {}), **OVERRIDES[nb], **extra, 'run_dir': str(root / 'runs' / nb), 'out_dir': str(root / 'fig')}
    if nb == 'efficiency': over.pop('run_dir')
    f = root / f'{nb}_override.yaml'; f.write_text(yaml.safe_dump(over))
    cmd = shlex.split(readme_commands()[nb].replace('runs/paper/', f'{root}/out_'))
    cmd = [sys.executable, '-m', 'papermill', *cmd[1:cmd.index(f'nbs/{nb}.ipynb')], '-f', str(f), *cmd[cmd.index(f'nbs/{nb}.ipynb'):], '--no-progress-bar']
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, f'{nb}: ' + out.stderr[-4000:]
    return json.loads((root / 'fig' / f"{nb}{dict(transfer='_shapenetpart', fewshot='_modelnetfewshot').get(nb, '')}.json").read_text()), out

def test_every_paper_file_runs_on_the_fixture(paper, monkeypatch):
    monkeypatch.delenv('IN_TEST', raising=False)
    root, fx = paper; ck, students = str(fx['ckpt']), root / 'students'
    m, out = run_paper_file('distill', root, fx, dict(data_root=str(fx['shapenet55']), teacher_path=ck, asset_dir=str(students)))
    assert m['params']['dataset'] == 'shapenet55' and m['estimate']['minutes'] > 0 and m['estimate']['units'] > 0
    assert set(m['rows']) == {'teacher', 's1', 's16', 'gate_s16'} and m['fingerprints']['teacher'] and m['rows']['s16']['health']['used'] >= 1
    assert sorted(p.name for p in students.glob('*.pt')) == ['student_gate_s16.pt', 'student_s1.pt', 'student_s16.pt']
    runs = dict(ablations=dict(data_root=str(fx['shapenet55']), seg_root=str(fx['shapenetpart']), teacher_path=ck),
                fewshot=dict(fewshot_root=str(fx['fewshot']), teacher_path=ck, students=[str(students / 'student_s1.pt'), str(students / 'student_s16.pt')]),
                transfer=dict(data_root=str(fx['shapenetpart']), teacher_path=ck, foundry_student=str(students / 'student_s16.pt')),
                efficiency=dict())
    for nb, extra in runs.items():
        m, _ = run_paper_file(nb, root, fx, extra)
        assert m['device'] == 'cpu' and m['params'].get('device', 'cpu') == 'cpu'
        if nb != 'efficiency': assert m['fingerprints']['teacher'] == json.loads((root / 'fig' / 'distill.json').read_text())['fingerprints']['teacher']   # the released ViT-S, not the embedded teacher
        if nb == 'ablations':
            assert m['params']['dataset'] == 'shapenet55' and m['params']['seg_root'] and m['data'].startswith('shapenet55') and m['estimate']['units'] > 0
            assert set(m['rows']) == {'teacher', 'random_blocks', 'control_s0', 'dso_s4', 'fps_s4', 'dso_paper_s4'} and all(r['linear_C'] == 0.012 for r in m['rows'].values())   # Point-JEPA's probe, as the paper file says
        if nb == 'fewshot': assert set(m['results']) - {'real'} == {'ModelNetFewshot 5way10shot'} and set(m['results']['ModelNetFewshot 5way10shot']) == {'teacher', 'student_s1', 'student_s16', 'random_blocks'}   # (+ the real ModelNet40 check where ../shared/data is)
        if nb == 'transfer': assert m['names'] == ['teacher', 'foundry', 'kd_cls', 'kd_seg', 'random_blocks'] and m['params']['final'] and 'foundry' not in m['steps']   # the given student: its own budget
        assert TITLES[nb] in render_results(root / 'fig')                # the README section is generated from what it wrote
    assert len([p for p in (root / 'fig').glob('*.png') if p.stat().st_size > 1000]) >= 5
    res = root / 'RESULTS.md'
    subprocess.run([sys.executable, '-m', 'foundry_nb.report', '--results', str(root / 'fig'), str(res)], cwd=ROOT, check=True)
    assert all(t in res.read_text() for t in TITLES.values())
