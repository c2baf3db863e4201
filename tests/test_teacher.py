"The embedded teacher, checkpoint files on disk, and the pretraining notebook under papermill."
import json, os
from pathlib import Path
import numpy as np, pytest, torch, papermill as pm
from foundry_nb.teacher import load_teacher, EMBEDDED_TEACHER, official_state_dict, CheckpointError, PointEncoder, save_encoder, fingerprint
from foundry_nb.report import shipped_teacher_fingerprint
from conftest import rejection

NBS = Path(__file__).resolve().parents[1] / 'nbs'

def test_embedded_teacher_loads_with_its_provenance():
    assert EMBEDDED_TEACHER.exists(), 'the shipped teacher is missing: run nbs/pretrain_teacher.ipynb'
    assert EMBEDDED_TEACHER.stat().st_size <= 10 * 2**20
    t = load_teacher()
    assert not t.training and t.cfg.dim == 192
    m = t.meta
    assert m['seed'] == 0 and m['params']['config'] == 'tiny' and m['steps'] > 0
    p = m['probes']
    assert p['pretrained']['linear_probe'] >= 0 and p['random']['linear_probe'] >= 0 and 'met' in m['bar']
    with torch.no_grad(): f = t.pooled(torch.randn(2, 1024, 3), generator=torch.Generator().manual_seed(0))
    assert f.shape == (2, 384) and torch.isfinite(f).all()

def test_shipped_teacher_is_the_one_the_results_name():
    "The README says which results came from the shipped teacher by comparing fingerprints: the file must be the one the runs recorded."
    recorded = shipped_teacher_fingerprint(NBS.parent / 'figures')
    assert recorded, 'no run records the shipped teacher fingerprint: run make pretrain or make pretrain-check'
    assert fingerprint(load_teacher()) == recorded, 'foundry_nb/assets/teacher_tiny.pt is not the teacher figures/pretrain_teacher*.json recorded: re-run make pretrain-check'

@pytest.mark.parametrize('bad,msg', [(dict(reference_teacher='nowhere.pt'), 'no such file'),
                                     (dict(reference_teacher='../foundry_nb/assets/teacher_tiny.pt', asset_path='../foundry_nb/assets/teacher_tiny.pt'), 'must not overwrite')])
def test_recreation_check_never_overwrites_the_shipped_teacher(tmp_path, monkeypatch, bad, msg):
    monkeypatch.delenv('IN_TEST', raising=False)
    before = EMBEDDED_TEACHER.read_bytes()
    e = rejection(NBS / 'pretrain_teacher.ipynb', {**dict(asset_path=str(tmp_path / 'teacher.pt'), run_dir=str(tmp_path / 'run'), out_dir=str(tmp_path / 'fig')), **bad})
    assert e is not None and msg in str(e), e
    assert EMBEDDED_TEACHER.read_bytes() == before and not (tmp_path / 'fig').exists()

@pytest.mark.parametrize('fmt', ['pointjepa', 'pointmae', 'pointbert'])
def test_official_files_load_by_path(tmp_path, fmt):
    torch.save(official_state_dict(fmt, depth=2), tmp_path / 'w.ckpt')
    with pytest.raises(CheckpointError, match='missing'): load_teacher(tmp_path / 'w.ckpt')      # vit_s has 12 blocks
    sd = official_state_dict(fmt); torch.save(sd, tmp_path / 'full.ckpt')
    assert load_teacher(tmp_path / 'full.ckpt').cfg.depth == 12

def test_truncated_and_foreign_files(tmp_path):
    save_encoder(PointEncoder('tiny', depth=1), tmp_path / 'e.pt', seed=1)
    (tmp_path / 'cut.pt').write_bytes((tmp_path / 'e.pt').read_bytes()[:5000])
    with pytest.raises(CheckpointError, match='truncated or corrupt'): load_teacher(tmp_path / 'cut.pt')
    torch.save({'weights': {}}, tmp_path / 'other.pt')
    with pytest.raises(CheckpointError, match='unrecognised checkpoint'): load_teacher(tmp_path / 'other.pt')
    with pytest.raises(FileNotFoundError): load_teacher(tmp_path / 'none.pt')

def _run(tmp_path, **params):
    base = dict(asset_path=str(tmp_path / 'teacher.pt'), run_dir=str(tmp_path / 'run'), out_dir=str(tmp_path / 'fig'))
    pm.execute_notebook(str(NBS / 'pretrain_teacher.ipynb'), str(tmp_path / 'out.ipynb'), cwd=str(NBS), parameters={**base, **params}, progress_bar=False)

def test_pretrain_notebook_smoke_and_resume(tmp_path, monkeypatch):
    monkeypatch.delenv('IN_TEST', raising=False)
    small = dict(n_per_class=2, n_test_per_class=2, epochs=1, warmup_epochs=0, fewshot_folds=1, batch_size=12, threads=1, real_eval=False)
    _run(tmp_path, **small)
    m = json.loads((tmp_path / 'fig' / 'pretrain_teacher_val.json').read_text())          # not final: scored on the validation split, named so
    assert m['steps'] == 3 and m['params']['seed'] == 0 and m['split'] == 'val' and (tmp_path / 'fig' / 'pretrain_teacher_val.png').exists()
    assert m['probes']['random_control']['seeds'] == 3 and len(m['random_fingerprints']) == 3 and len(set(m['random_fingerprints'].values())) == 3
    t = load_teacher(tmp_path / 'teacher.pt'); assert t.meta['steps'] == 3 and fingerprint(t) == m['fingerprint']   # float16 file: the probed weights
    assert (tmp_path / 'teacher.pt').stat().st_size < 0.6 * EMBEDDED_TEACHER.stat().st_size
    _run(tmp_path, **small, final=True)                 # the final run: resumes the finished run, trains nothing more, scores the test split
    m = json.loads((tmp_path / 'fig' / 'pretrain_teacher.json').read_text())
    assert m['steps'] == 3 and m['split'] == 'test'
    with pytest.raises(pm.PapermillExecutionError, match='other settings'): _run(tmp_path, **{**small, 'epochs': 2})   # another schedule: refused, never mixed

@pytest.mark.parametrize('bad,msg', [(dict(config='vit_xl'), "parameter config='vit_xl': choose one of"), (dict(epochs=0), 'epochs must be'), (dict(tau=[0.99, 0.9]), 'tau must be'),
                                     (dict(dataset='modelnet40'), "parameter dataset='modelnet40': choose one of ['synthetic', 'modelnet10']"), (dict(dataset='modelnet10', data_root='nowhere.npz'), 'make pretrain DATASET=modelnet10 DATA='),
                                     (dict(random_seeds=0), 'random_seeds must be'), (dict(final='yes'), "parameter final must be bool"), (dict(benchmark='medium'), "parameter benchmark='medium': choose one of"),
                                     (dict(dataset='modelnet10', benchmark='hard'), "applies to dataset='synthetic' only"),
                                     (dict(epochs=2, warmup_epochs=2), 'warmup_epochs must be an int from 0 to epochs - 1 = 1'), (dict(out_name='a/b'), 'out_name must be a file name')])
def test_pretrain_notebook_rejects_bad_parameters(tmp_path, monkeypatch, bad, msg):
    monkeypatch.delenv('IN_TEST', raising=False)
    e = rejection(NBS / 'pretrain_teacher.ipynb', dict(asset_path=str(tmp_path / 'teacher.pt'), run_dir=str(tmp_path / 'run'), out_dir=str(tmp_path / 'fig'), **bad))
    assert e is not None and msg in str(e), e
    assert not (tmp_path / 'teacher.pt').exists()

def shipped_with_runs(name:str, json_stem:str, make:str)->tuple:
    "A shipped teacher (float16, lean, the weights its final run probed, >= 3 random seeds), its final run's JSON and its validation run's (same weights, run first)."
    from foundry_nb.cli import shipped_teacher, shipped_teachers, SHIPPED_TEACHERS
    from foundry_nb.teacher import torch_load
    assert name in shipped_teachers(), f'foundry_nb/assets/{SHIPPED_TEACHERS[name]} is missing: {make}'
    path = EMBEDDED_TEACHER.parent / SHIPPED_TEACHERS[name]
    assert path.stat().st_size <= 5 * 2**20
    assert all(v.dtype == torch.float16 for v in torch_load(path)['state_dict'].values() if v.is_floating_point())
    t = shipped_teacher(name)
    m, val = (json.loads((NBS.parent / 'figures' / f'{json_stem}{sfx}.json').read_text()) for sfx in ('', '_val'))
    assert fingerprint(t) == m['fingerprint'] and m['split'] == 'test' and m['params']['final'] is True and m['probes']['random_control']['seeds'] >= 3
    assert val['split'] == 'val' and val['fingerprint'] == m['fingerprint']
    return t, m, val

def test_real_teacher_ships_with_its_run():
    "The ModelNet10 teacher: pretrained without labels on official train minus val, the weights its final run probed."
    t, m, val = shipped_with_runs('teacher_modelnet10', 'pretrain_teacher_modelnet10', 'make pretrain DATASET=modelnet10')
    assert t.meta['dataset'] == 'modelnet10' and m['probe_train_shapes'] == 3928 and m['test_shapes'] == 899 and val['test_shapes'] == 393

def test_hard_teacher_ships_with_its_run():
    "The hard-benchmark teacher: trained and scored on the frozen benchmark, and that benchmark under the issue's ceilings for random weights on test."
    from foundry_nb.data import FROZEN_BENCHMARKS
    t, m, _ = shipped_with_runs('teacher_hard', 'pretrain_teacher_hard', 'make pretrain BENCHMARK=hard')
    assert m['params']['benchmark'] == 'hard' and t.meta['benchmark_fingerprint'] == m['benchmark_fingerprint'] == FROZEN_BENCHMARKS['hard']
    rnd = m['probes']['random_control']
    assert rnd['linear_calibrated'] <= 80 and rnd['knn1'] <= 70, 'the hard benchmark is no longer under its ceilings for random weights on test'
