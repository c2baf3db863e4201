"papermill smoke runs of the paper-reproduction notebooks (ablations, fewshot, efficiency, transfer), their parameter checks, and the README results generated from what they write."
import json, re
from pathlib import Path
import nbformat, papermill as pm, pytest, torch
from foundry_nb.report import render_results, update_readme, START, END
from conftest import rejection

NBS = Path(__file__).resolve().parents[1] / 'nbs'
SMOKE = {   # the ablation's s_list and compressors are strings, as `papermill -p` passes them (the README's example)
    'ablations': dict(final=True, s_list='[1, 4]', compressors='dso,kmeans', seeds='0,1', residual_off_s=[4], paper_dso_s=[4], gate_s=4, n_per_class=2, n_test_per_class=1, n_points=512, distill_epochs=1,
                      batch_size=12, finetune_epochs=1, finetune_frozen_epochs=1, seg_epochs=1, seg_points=32, seg_widths=[16, 8], threads=1),
    'fewshot': dict(final=True, settings=['5way10shot'], folds=2, seeds='0,1', s_list=[1], students=['s16'], baselines=['fps'], n_per_class=10, n_test_per_class=20, n_points=512,
                    epochs=1, distill_epochs=1, batch_size=12, real_folds=1, threads=1),
    'efficiency': dict(students=['s1', 'gate_s16'], gate_budgets=[0, 64], runs=2, scaling_points=[1000, 20000], paper_groups=256, threads=1),
    'transfer': dict(final=True, seeds='0,1', specialist_s=4, n_per_class=2, n_test_per_class=1, n_points=512, distill_epochs=1, epochs=1, frozen_epochs=0, batch_size=12, seg_points=32,
                     seg_widths=[16, 8], threads=1),
}
BAD = [('ablations', dict(compressors=['dso', 'bogus']), 'choose one of'), ('ablations', dict(s_list=[0]), 'parameter s_list'),
       ('ablations', dict(finetune_frozen_epochs=9), 'finetune_frozen_epochs'), ('fewshot', dict(settings=['5way']), "form '5way10shot'"),
       ('fewshot', dict(n_per_class=5), 'n_per_class must be'), ('efficiency', dict(students=['s99']), 'parameter students'),
       ('efficiency', dict(device='tpu'), 'parameter device'), ('transfer', dict(kd_alpha=2.0), 'parameter kd_alpha'),
       ('ablations', dict(s_list=[1, 100]), 'parameter s_list must be int in .1, 64.'), ('ablations', dict(batch_size=999), 'batch_size=999 is larger than'),
       ('fewshot', dict(settings=['50way10shot']), 'more ways than the 18'), ('efficiency', dict(gate_budgets=[0, 100]), 'parameter gate_budgets must be int in .0, 64.'),
       ('transfer', dict(specialist_s=100), 'parameter specialist_s'), ('fewshot', dict(baseline_s=65), 'parameter baseline_s'),
       ('ablations', dict(allow_pickle='yes'), 'parameter allow_pickle'), ('ablations', dict(seeds=[0, 0]), 'distinct seeds'),
       ('ablations', dict(seeds=[-1]), 'parameter seeds'), ('transfer', dict(seg_eval_points=-1), 'parameter seg_eval_points'),
       ('ablations', dict(final=False, dataset='shapenet55'), 'has no validation split'), ('ablations', dict(benchmark='medium'), 'parameter benchmark'),
       ('transfer', dict(final=False, dataset='shapenetpart', data_root='.'), 'has no validation split'), ('transfer', dict(seeds=[1, 1]), 'distinct seeds'),
       ('transfer', dict(dataset='modelnet10', data_root='/nonexistent'), 'parameter data_root'), ('transfer', dict(foundry_student='s99'), 'parameter foundry_student'),
       ('fewshot', dict(final=False, fewshot_root='.'), 'pass final=True'), ('fewshot', dict(dataset='modelnet10', settings=['11way10shot'], data_root='.'), 'more ways than the 10'),
       ('fewshot', dict(dataset_episodes=False), 'nothing to run'), ('fewshot', dict(seeds=[2, 2]), 'distinct seeds')] + \
      ([] if torch.cuda.is_available() else [(nb, dict(device='cuda'), "use device='auto' or 'cpu'") for nb in ('ablations', 'fewshot', 'efficiency', 'transfer')])

def _run(tmp_path, nb, **params):
    base = dict(out_dir=str(tmp_path / 'fig'), **({} if nb == 'efficiency' else dict(run_dir=str(tmp_path / 'run'))))
    pm.execute_notebook(str(NBS / f'{nb}.ipynb'), str(tmp_path / f'{nb}.out.ipynb'), cwd=str(NBS), parameters={**base, **params}, progress_bar=False)
    return tmp_path / 'fig'

@pytest.mark.parametrize('nb', list(SMOKE))
def test_parameters_tag(nb):
    assert sum('parameters' in c.metadata.get('tags', []) for c in nbformat.read(NBS / f'{nb}.ipynb', as_version=4).cells) == 1

@pytest.mark.parametrize('nb', list(SMOKE))
def test_smoke_run_writes_figures_json_and_readme_section(tmp_path, monkeypatch, nb):
    monkeypatch.delenv('IN_TEST', raising=False)
    fig = _run(tmp_path, nb, **SMOKE[nb])
    m = json.loads((fig / f"{nb}{'_hard' if nb in ('ablations', 'transfer', 'fewshot') else ''}.json").read_text())   # the default: the hard benchmark
    assert m['seed'] == 0 and m['foundry_nb'] and m['machine'] and all(m['params'][k] == v for k, v in SMOKE[nb].items() if k in m['params'] and not isinstance(v, str))
    assert [p for p in fig.glob('*.png') if p.stat().st_size > 1000]
    if nb == 'ablations':
        assert m['params']['s_list'] == [1, 4] and m['params']['seeds'] == [0, 1] and m['gate'] and m['params']['split'] == 'test' and m['params']['benchmark'] == 'hard'
        assert len(set(m['steps'].values())) == 1 and 'gate_s4' in m['steps'] and all(g['n_seeds'] == 2 for g in m['gate'])   # one budget for every trained row, the gate too
        assert set(m['rows']) == {'teacher', 'random_blocks', 'control_s0', 'dso_s1', 'dso_s4', 'kmeans_s1', 'kmeans_s4', 'dso_s4_nores', 'kmeans_s4_nores', 'dso_paper_s4'}
        assert m['rows']['dso_s4']['n_seeds'] == 2 and len(m['rows']['dso_s4']['linear_correct']) == 2 and len(m['rows']['dso_s4']['linear_ci']) == 2
        assert set(m['spearman']) == {'linear', 'finetune', 'seg_instance_miou'}     # the loss-vs-accuracy claim on every downstream metric
    if nb == 'transfer':
        assert m['names'] == ['teacher', 'foundry', 'kd_cls', 'kd_seg', 'random_blocks'] and m['params']['split'] == 'test' and m['params']['seeds'] == [0, 1]
        assert len(m['rows']['foundry']['cls_correct']) == 2 and len(m['rows']['kd_cls']['tuned']['cls_correct']) == 2 and len(set(m['steps'].values())) == 1   # two runs, one budget
    if nb == 'efficiency': assert [r['N'] for r in m['scaling']] == [1000, 20000]
    if nb == 'fewshot':
        assert set(m['results']['5way10shot']) == {'teacher', 's16', 'dso_s1', 'fps_s16', 'random_blocks'} and m['params']['split'] == 'test' and m['steps'] == dict(dso_s1=m['steps']['fps_s16'], fps_s16=m['steps']['fps_s16'])
        assert all(len(r['folds']) == 2 and len(r['folds'][0]) == (1 if c == 'real' else 2) for c, rr in m['results'].items() for r in rr.values())   # (runs, folds)
    md = render_results(fig)                       # the README section is generated from this JSON
    title = dict(ablations='### Ablations', fewshot='### Few-shot', efficiency='### Efficiency', transfer='### Generalist vs specialists')[nb]
    assert title in md and 'Paper' in md
    readme = tmp_path / 'README.md'; readme.write_text(f'# x\n{START}\n{END}\n')
    assert update_readme(readme, fig) and title in readme.read_text()

@pytest.mark.parametrize('nb,bad,msg', BAD)
def test_bad_parameters_rejected_before_work(tmp_path, monkeypatch, nb, bad, msg):
    "The notebook's own cells (run in-process up to its checks, parameters injected as papermill does) refuse the value with a message naming it."
    monkeypatch.delenv('IN_TEST', raising=False)
    base = dict(out_dir=str(tmp_path / 'fig'), **({} if nb == 'efficiency' else dict(run_dir=str(tmp_path / 'run'))))
    e = rejection(NBS / f'{nb}.ipynb', {**base, **SMOKE[nb], **bad})
    assert e is not None and re.search(msg, str(e)), f'{nb} with {bad}: expected a refusal matching {msg!r}, got {e!r}'
    assert not (tmp_path / 'fig' / f'{nb}.json').exists() and not (tmp_path / 'run' / 'rows.json').exists()

def test_bad_parameter_refused_under_papermill_too(tmp_path, monkeypatch):
    "One refusal through papermill itself, as a user meets it (the in-process runs above skip the kernel)."
    monkeypatch.delenv('IN_TEST', raising=False)
    with pytest.raises(pm.PapermillExecutionError, match='choose one of'): _run(tmp_path, 'ablations', **{**SMOKE['ablations'], 'compressors': ['dso', 'bogus']})
