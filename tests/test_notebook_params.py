"""Every parameter of every reproduction notebook is checked before any work starts (issue #29): each parameter in turn
is given values of the wrong kind (a string for a number, a number for a string, a negative count, NaN, a non-list for a
list, ...) and the notebook's own cells, up to and including its parameter check, must refuse it with a message that
names the parameter. The cells run in-process (no kernel), in `nbs/`, with the value injected in a cell after the
parameters cell, as papermill does (IN_TEST is unset: its smoke sizes would overwrite the injected value)."""
import ast, json, math, os
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parent.parent / 'nbs'
NOTEBOOKS = ['ablations', 'fewshot', 'transfer', 'efficiency', 'distill', 'benchmark_tokenizer', 'pretrain_teacher']
REFUSED = (ValueError, TypeError, FileNotFoundError, KeyError)
VALID = {('ablations', 'residual_off_s'): [[]], ('ablations', 'paper_dso_s'): [[]], ('fewshot', 'students'): [[]], ('fewshot', 'baselines'): [[]], ('fewshot', 's_list'): [[]],   # empty: that part is skipped
         ('ablations', 'probe_C'): [7], ('distill', 'probe_C'): [7]}                                           # a fixed C instead of 'cv'

def cells(name:str)->list:
    "Sources of the code cells: the parameters cell, then every cell up to and including the one that checks the parameters."
    nb = json.load(open(NBS / f'{name}.ipynb'))
    code = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']
    params = next(i for i, c in enumerate(nb['cells']) if 'parameters' in c['metadata'].get('tags', []))
    code = [''.join(c['source']) for c in nb['cells'][params:] if c['cell_type'] == 'code']
    last = next(i for i, s in enumerate(code) if i > 0 and ('validate()' in s or 'check(' in s))
    return code[:last + 1]

def parameters(src:str)->dict:
    "name -> default value of a parameters cell (literal assignments only)."
    out = {}
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try: out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError: pass
    return out

def bad_values(default)->list:
    "Values of the wrong kind for a parameter whose default is `default`."
    if isinstance(default, bool): return ['yes', 2]
    if isinstance(default, int): return ['7', -7, 2.5]
    if isinstance(default, float): return ['0.1', math.nan, -1e9]
    if isinstance(default, str): return [7, ['a']]
    if isinstance(default, (list, tuple)): return ['bad', [], [object]]
    if default is None: return [{'bad': 1}]
    return []

def run(name:str, override:dict):
    "Run the notebook's first cells with `override` injected after its parameters cell."
    src = cells(name)
    ns = {'__name__': '__main__'}
    cwd, env = os.getcwd(), os.environ.get('IN_TEST')
    os.chdir(NBS); os.environ.pop('IN_TEST', None)
    try:
        exec(compile(src[0], f'{name}:parameters', 'exec'), ns)
        ns.update(override)
        for i, s in enumerate(src[1:]): exec(compile(s, f'{name}:cell{i + 1}', 'exec'), ns)
    finally:
        os.chdir(cwd)
        if env is not None: os.environ['IN_TEST'] = env
    return ns

# Gaps known and left for the notebooks' next runs (their committed outputs would go stale with the checks), as
# (notebook, parameter, repr of the bad value): the list is exact, so the test fails both when a new gap appears and
# when one of these is closed without being struck off here.
_ANY_STR = ('7', "['a']")
KNOWN_GAPS = set()   # every gap closed (#29): the notebooks re-ran with their checks

CASES = [(nb, p, v) for nb in NOTEBOOKS for p, d in parameters(cells(nb)[0]).items() for v in bad_values(d) if v not in VALID.get((nb, p), [])]

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_defaults_pass_the_checks(nb):
    run(nb, {})                                    # the defaults themselves are accepted
    for (name, p), values in VALID.items():
        for v in values:
            if name == nb: run(nb, {p: v})         # and so are the documented special values

@pytest.mark.parametrize('nb,param,value', CASES, ids=[f'{n}-{p}-{v!r}'[:60] for n, p, v in CASES])
def test_bad_parameter_refused(nb, param, value):
    if (nb, param, repr(value)) in KNOWN_GAPS:                # not checked up front: accepted, or failing later with a message that does not name it
        try: run(nb, {param: value})
        except REFUSED as e: assert param not in str(e), f"{nb}: {param}={value!r} is now refused by name ({e}): strike it off KNOWN_GAPS"
        return
    with pytest.raises(REFUSED) as e: run(nb, {param: value})
    assert param in str(e.value) or param.rstrip('s') in str(e.value), f"{nb}: {param}={value!r} refused without naming the parameter: {e.value}"
