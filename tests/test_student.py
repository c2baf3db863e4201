"The shipped students, and the distillation notebook under papermill."
import json
from pathlib import Path
import pytest, torch, papermill as pm
from foundry_nb.student import embedded_students, embedded_student, StudentOutput
from foundry_nb.teacher import load_teacher

NBS = Path(__file__).resolve().parents[1] / 'nbs'

def test_shipped_students_load_with_one_call():
    names = embedded_students()
    assert {'s1', 's4', 's16', 'gate_s16'} <= set(names), names
    x = torch.randn(2, 1024, 3)
    for n in names:
        st = embedded_student(n)
        assert st.meta['seed'] == 0 and st.meta['history'] and not st.training
        with torch.no_grad(): o = st(x, torch.Generator().manual_seed(0))
        assert isinstance(o, StudentOutput) and o.y.shape == (2, 64, load_teacher().cfg.dim) and torch.isfinite(o.y).all()

def test_gated_student_budgets_need_no_retraining():
    g = embedded_student('gate_s16'); x = torch.randn(1, 1024, 3)
    with torch.no_grad(): counts = [g(x, torch.Generator().manual_seed(0), r=r).n_tokens for r in (0, 16, 32, 64)]
    assert counts == [64, 64, 48, 16]

def test_distill_notebook_smoke_and_bad_parameters(tmp_path, monkeypatch):
    monkeypatch.delenv('IN_TEST', raising=False)
    base = dict(asset_dir=str(tmp_path / 'assets'), run_dir=str(tmp_path / 'run'), out_dir=str(tmp_path / 'fig'))
    small = dict(s_list=[2], gated_s=2, n_per_class=2, n_test_per_class=1, views=2, epochs=1, batch_size=12, latency_runs=2, threads=1)
    pm.execute_notebook(str(NBS / 'distill.ipynb'), str(tmp_path / 'o.ipynb'), cwd=str(NBS), parameters={**base, **small}, progress_bar=False)
    m = json.loads((tmp_path / 'fig' / 'distill.json').read_text())
    assert set(m['rows']) == {'teacher', 's2', 'gate_s2'} and m['params']['seed'] == 0
    assert {b['r'] for b in m['rows']['gate_s2']['budgets']} >= {0, 64}
    assert (tmp_path / 'assets' / 'student_s2.pt').exists()
    with pytest.raises(pm.PapermillExecutionError, match='s_list must be'):
        pm.execute_notebook(str(NBS / 'distill.ipynb'), str(tmp_path / 'o2.ipynb'), cwd=str(NBS), parameters={**base, 's_list': [0]}, progress_bar=False)

def test_hard_students_ship_with_their_run():
    "The students of the hard-benchmark teacher: in the package, float16, each the model its run measured, distilled from teacher_hard."
    from foundry_nb.teacher import fingerprint
    root = NBS.parent
    m = json.loads((root / 'figures' / 'distill_hard.json').read_text())
    teacher_fp = json.loads((root / 'figures' / 'pretrain_teacher_hard.json').read_text())['fingerprint']
    assert m['params']['benchmark'] == 'hard' and m['fingerprints']['teacher'] == teacher_fp == fingerprint(load_teacher(root / 'foundry_nb' / 'assets' / 'teacher_hard.pt'))
    names = [n for n in m['rows'] if n != 'teacher']
    assert names and set(f'hard_{n}' for n in names) <= set(embedded_students())
    for n in names:
        st = embedded_student(f'hard_{n}')
        assert fingerprint(st) == m['fingerprints'][n] and st.meta['params']['benchmark'] == 'hard' and st.meta['seed'] == m['params']['seed']
        assert all(p.dtype == torch.float16 for p in torch.load(root / 'foundry_nb' / 'assets' / f'student_hard_{n}.pt', weights_only=True)['state_dict'].values() if p.is_floating_point())
    assert set(m['controls']) == ({'s0', 'global'} if m['params']['train_controls'] else set())   # the context controls trained at the same budget

def test_real_student_ships_with_its_run():
    "The ModelNet10 student: in the package, float16, the model its run measured, distilled from teacher_modelnet10 and scored on ModelNet10's test split, with its card."
    from foundry_nb.teacher import fingerprint
    from foundry_nb.cli import teacher_of
    root = NBS.parent
    m = json.loads((root / 'figures' / 'distill_modelnet10.json').read_text())
    teacher_fp = json.loads((root / 'figures' / 'pretrain_teacher_modelnet10.json').read_text())['fingerprint']
    assert m['params']['dataset'] == 'modelnet10' and m['params']['final'] and m['fingerprints']['teacher'] == teacher_fp == fingerprint(load_teacher(root / 'foundry_nb' / 'assets' / 'teacher_modelnet10.pt'))
    st = embedded_student('modelnet10_s16')
    assert fingerprint(st) == m['fingerprints']['s16'] and teacher_of(st.meta) == 'teacher_modelnet10' and st.cfg.s == 16
    assert all(p.dtype == torch.float16 for p in torch.load(root / 'foundry_nb' / 'assets' / 'student_modelnet10_s16.pt', weights_only=True)['state_dict'].values() if p.is_floating_point())
    r = m['rows']['s16']
    assert r['latency_iqr'][0] <= r['latency_ms'] <= r['latency_iqr'][1] and r['speedup']['lo'] <= r['speedup']['mean'] <= r['speedup']['hi']   # timed with its spread
    assert 'academic use' in (root / 'foundry_nb' / 'assets' / 'card_modelnet10_s16.md').read_text()
