"papermill smoke runs of the reproduction notebooks, and their parameter checks."
import json, os, subprocess, sys
from pathlib import Path
import nbformat, papermill as pm, pytest
from conftest import rejection

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
REPRO = ['benchmark_tokenizer.ipynb', 'pretrain_teacher.ipynb', 'distill.ipynb']

@pytest.mark.parametrize('nb', REPRO)
def test_parameters_tag_survives_clean(nb):
    "papermill needs the `parameters` tag; nbdev_clean keeps it only with allowed_cell_metadata_keys = tags."
    cells = nbformat.read(NBS / nb, as_version=4).cells
    assert sum('parameters' in c.metadata.get('tags', []) for c in cells) == 1

def _run(tmp_path, **params):
    out = tmp_path / 'out'
    pm.execute_notebook(str(NBS / 'benchmark_tokenizer.ipynb'), str(tmp_path / 'run.ipynb'), cwd=str(NBS),
                        parameters=dict(out_dir=str(out), **params), progress_bar=False)
    return out

def test_benchmark_tokenizer_smoke(tmp_path, monkeypatch):
    monkeypatch.delenv('IN_TEST', raising=False)
    out = _run(tmp_path, sizes=[5000, 8000], torch_max_points=5000, threads=1)
    info = json.loads((out / 'tokenizer_benchmark.json').read_text())
    assert [(r['points'], r['backend']) for r in info['rows']] == [(5000, 'cpu'), (5000, 'torch'), (8000, 'cpu')]
    assert all(r['groups'] == r['points'] // 64 and r['total_s'] > 0 and r['peak_rss_mb'] > 0 for r in info['rows'])
    assert info['seed'] == 0 and info['config']['group_size'] == 32 and info['target_met'] is None
    for f in ('synthetic_gallery.png', 'tokenizer_benchmark.png', 'tokenizer_patches.html'): assert (out / f).stat().st_size > 1000

@pytest.mark.parametrize('bad,msg', [(dict(sizes=[10]), 'sizes must be'), (dict(backends=['gpu']), 'backends must be'),
                                     (dict(group_size=0), 'positive ints'), (dict(threads=0), 'threads')])
def test_benchmark_tokenizer_rejects_bad_parameters(tmp_path, monkeypatch, bad, msg):
    monkeypatch.delenv('IN_TEST', raising=False)
    e = rejection(NBS / 'benchmark_tokenizer.ipynb', dict(out_dir=str(tmp_path / 'out'), **bad))
    assert e is not None and msg in str(e), e
    assert not (tmp_path / 'out' / 'tokenizer_benchmark.json').exists()   # rejected before any work

def _convergence_script():
    import importlib.util
    spec = importlib.util.spec_from_file_location('convergence', Path(__file__).resolve().parents[1] / 'scripts' / 'convergence.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_convergence_check_reads_the_main_jobs_own_schedule():
    "`make convergence` checks the schedule the main job runs: its defaults come from the ablation notebook's parameters cell."
    import ast
    conv = _convergence_script()
    p = conv.main_job_defaults(str(Path(__file__).resolve().parents[1] / 'nbs' / 'ablations.ipynb'))
    cell = next(c for c in nbformat.read(Path(__file__).resolve().parents[1] / 'nbs' / 'ablations.ipynb', as_version=4).cells if 'parameters' in c.metadata.get('tags', []))
    literal = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(cell.source).body if isinstance(n, ast.Assign)}
    assert {k: p[k] for k in literal} == literal and p['benchmark'] == 'hard' and p['final'] is False
    assert (conv.DISTILL_FACTOR, conv.DISTILL_TOLERANCE, conv.FINETUNE_FACTOR, conv.FINETUNE_TOLERANCE) == (4, 0.10, 3, 1.0)   # issue #26's bars, written before the runs

def test_committed_convergence_record_is_of_the_current_schedule():
    "The committed record must concern the main job's current schedule, on validation shapes; a schedule changed without re-running it fails here."
    root = Path(__file__).resolve().parents[1]
    f = root / 'figures' / 'convergence_hard.json'
    if not f.exists(): pytest.skip('no convergence record committed yet (make convergence)')
    cv, p = json.loads(f.read_text()), _convergence_script().main_job_defaults(str(root / 'nbs' / 'ablations.ipynb'))
    assert cv['params']['split'] == 'val' and all(cv['params'][k] == p[k] for k in ('n_per_class', 'n_points', 'distill_epochs', 'batch_size', 'lr', 'beta', 'finetune_epochs', 'finetune_frozen_epochs', 'finetune_lr'))
    assert set(cv['distill']) == {f"{c}_s{max(p['s_list'])}" for c in p['compressors']} | ({f"gate_s{p['gate_s']}"} if p['gate_s'] else set())

def _defaults(nb:str)->dict:
    import ast
    cell = next(c for c in nbformat.read(Path(__file__).resolve().parents[1] / 'nbs' / f'{nb}.ipynb', as_version=4).cells if 'parameters' in c.metadata.get('tags', []))
    out = {}
    for n in ast.parse(cell.source).body:
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name):
            try: out[n.targets[0].id] = ast.literal_eval(n.value)
            except ValueError: pass
    return out

@pytest.mark.parametrize('nb', ['transfer', 'fewshot'])
def test_committed_paper_runs_are_final_equal_budget_and_multi_seed(nb):
    "The committed transfer and few-shot results are final runs (test split) of the notebooks' own schedule, with >= 3 training runs and one budget for every model trained in them."
    root = Path(__file__).resolve().parents[1]
    m, d = json.loads((root / 'figures' / f'{nb}_hard.json').read_text()), _defaults(nb)
    p = m['params']
    assert p['final'] is True and p['split'] == 'test' and p['benchmark'] == 'hard' and len(p['seeds']) >= 3
    assert all(p[k] == d[k] for k in ('n_per_class', 'n_points', 'distill_epochs', 'distill_lr', 'batch_size', 'epochs') if k in p), 'the committed run is not of the current defaults'
    assert len(m['steps']) >= 3 and len(set(m['steps'].values())) == 1          # equal budgets, recorded
    main = json.loads((root / 'figures' / 'ablations_hard.json').read_text())['params']
    assert p['distill_epochs'] == main['distill_epochs'] and p['n_per_class'] == main['n_per_class']   # the main job's schedule

def test_reseed_run_adds_runs_of_the_same_configuration():
    "The transfer claims' re-run with more seeds: other seeds, everything else as the main run."
    root = Path(__file__).resolve().parents[1]
    f = root / 'figures' / 'reseed' / 'transfer_hard.json'
    if not f.exists(): pytest.skip('no re-run with more seeds committed')
    a, b = (json.loads(p.read_text())['params'] for p in (root / 'figures' / 'transfer_hard.json', f))
    assert not set(a['seeds']) & set(b['seeds']) and len(b['seeds']) >= 2
    assert {k: v for k, v in a.items() if k != 'seeds'} == {k: v for k, v in b.items() if k != 'seeds'}

def test_committed_modelnet10_main_job_matches_the_hard_one():
    "The main job on real ModelNet10: a final run of `make reproduce-modelnet10`, the hard run's schedule (360 training shapes, the same steps), >= 3 runs, classification only, the paper's DSO beside the kit's."
    root = Path(__file__).resolve().parents[1]
    m = json.loads((root / 'figures' / 'ablations_modelnet10.json').read_text())
    hard = json.loads((root / 'figures' / 'ablations_hard.json').read_text())
    p = m['params']
    assert p['dataset'] == 'modelnet10' and p['final'] is True and p['split'] == 'test' and len(p['seeds']) >= 3
    assert p['n_per_class'] * 10 == hard['params']['n_per_class'] * 18 and set(m['steps'].values()) == set(hard['steps'].values())   # the same shapes count and steps
    assert all(p[k] == hard['params'][k] for k in ('distill_epochs', 'batch_size', 'lr', 'beta', 'finetune_epochs', 'finetune_frozen_epochs', 'finetune_lr', 'probe_C'))
    assert len(m['test_labels']) == m['n_test'] == 899 and not any('seg_ious' in r for r in m['rows'].values())   # the official test split; no part labels
    assert m['rows']['dso_paper_s16']['n_seeds'] == m['rows']['dso_s16']['n_seeds'] == len(p['seeds'])
