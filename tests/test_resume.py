"""Nothing lost across processes: a distillation killed with SIGKILL mid-epoch resumes to bit-identical weights, and two
processes writing one result store keep every row."""
import json, os, signal, subprocess, sys, textwrap
from pathlib import Path
import torch
from foundry_nb.teacher import torch_load

ROOT = Path(__file__).resolve().parents[1]

DISTILL = textwrap.dedent('''
    import os, signal, sys, torch
    sys.path.insert(0, {root!r})
    from dataclasses import asdict
    import foundry_nb.student as S
    from foundry_nb.data import SyntheticShapes
    from foundry_nb.teacher import PointEncoder
    from foundry_nb.training import TrainConfig, seed_everything
    torch.set_num_threads(1)
    work, ckpt, out, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.manual_seed(0); teacher = PointEncoder('tiny', depth=1, dim=48, heads=4).eval(); teacher.tokenizer.start = 0
    cache = S.cache_targets(teacher, SyntheticShapes('train', 1, 512, cache_dir=work), 256, cache_dir=work)
    anneal = S.anneal_tau
    def anneal_then_maybe_die(m, step, total, *a):
        t = anneal(m, step, total, *a)
        if step == kill_at: os.kill(os.getpid(), signal.SIGKILL)      # a hard kill: no exception handler, no atexit
        return t
    S.anneal_tau = anneal_then_maybe_die
    seed_everything(0); st = S.FoundryStudent(S.StudentConfig(asdict(teacher.cfg), s=4), teacher)
    S.distill(st, cache, TrainConfig(epochs=3, batch_size=6, lr=1e-3, seed=0, ckpt_every=1, progress=False, device='cpu'), ckpt)
    torch.save(st.state_dict(), out)
''')

def _distill(tmp_path, ckpt, out, kill_at=-1):
    script = tmp_path / 'distill.py'; script.write_text(DISTILL.format(root=str(ROOT)))
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, str(script), str(tmp_path / 'work'), str(tmp_path / ckpt), str(tmp_path / out), str(kill_at)],
                          capture_output=True, text=True, env=env, timeout=600)

def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path):
    ref = _distill(tmp_path, 'ref.pt', 'ref_weights.pt'); assert ref.returncode == 0, ref.stderr[-2000:]
    killed = _distill(tmp_path, 'run.pt', 'never.pt', kill_at=5)           # 18 shapes / batch 6 = 3 steps an epoch: step 5 is inside epoch 2
    assert killed.returncode == -signal.SIGKILL and not (tmp_path / 'never.pt').exists()
    mid = torch_load(tmp_path / 'run.pt')
    assert (mid['step'], mid['epoch'], mid['batch_in_epoch']) == (4, 1, 1)    # the last checkpoint before the kill: mid-epoch
    resumed = _distill(tmp_path, 'run.pt', 'resumed_weights.pt'); assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = torch.load(tmp_path / 'ref_weights.pt', weights_only=True), torch.load(tmp_path / 'resumed_weights.pt', weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
    assert float(b['compressor.tau_']) < 1.0                                   # the annealed temperature came back with the weights

STORE = textwrap.dedent('''
    import sys, time; sys.path.insert(0, {root!r})
    from foundry_nb.experiments import ResultStore
    st = ResultStore(sys.argv[1])
    for i in range(40): st.get(f'{{sys.argv[2]}}{{i}}', lambda: (time.sleep(0.05), i)[1])
''')

def test_two_processes_share_a_result_store(tmp_path):
    script = tmp_path / 'store.py'; script.write_text(STORE.format(root=str(ROOT)))
    ps = [subprocess.Popen([sys.executable, str(script), str(tmp_path / 'rows.json'), tag], stderr=subprocess.PIPE, text=True) for tag in ('a', 'b')]
    for p in ps: assert p.wait(timeout=300) == 0, p.stderr.read()[-2000:]
    rows = json.loads((tmp_path / 'rows.json').read_text())
    assert len(rows) == 80 and not list(tmp_path.glob('.rows.json.*.tmp'))
