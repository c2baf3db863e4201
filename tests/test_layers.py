"""One way through the house: every module of `foundry_nb` has a declared layer, imports only go down, and the library
reads one statement per line."""
import ast
from pathlib import Path
from conftest import ROOT

# The layers, lowest first (the README's "How the code is laid out"). A module may import the modules listed before it,
# in its own layer or a lower one, never one listed after it: so there is no import circle.
LAYERS = {
    'data': ['stats', 'cloud', 'shapes', 'views', 'data', 'loaders'],
    'tokenizer': ['tokenizer'],
    'teacher': ['teacher', 'foreign', 'training', 'cache', 'probe', 'jepa', 'mae'],
    'student / baselines': ['dso', 'cau', 'gate', 'student', 'baselines'],
    'downstream': ['downstream'],
    'experiments / report': ['experiments', 'export', 'book', 'report', 'cli'],
}
ORDER = [m for mods in LAYERS.values() for m in mods]
LIB = ROOT / 'foundry_nb'

def modules(lib:Path)->list:
    return sorted(p.stem for p in lib.glob('*.py') if not p.stem.startswith('_'))

def imported(tree:ast.AST, pkg:str='foundry_nb')->list:
    "(line, module) for every import of a kit module, at the top or inside a function."
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out += [(n.lineno, a.name.split('.')[1]) for a in n.names if a.name.startswith(pkg + '.')]
        elif isinstance(n, ast.ImportFrom):
            mod = n.module or ''
            if n.level == 1 and mod: out.append((n.lineno, mod.split('.')[0]))
            elif n.level == 1 or mod == pkg: out += [(n.lineno, a.name) for a in n.names]          # from . import x / from foundry_nb import x
            elif mod.startswith(pkg + '.'): out.append((n.lineno, mod.split('.')[1]))
    return out

def upward_imports(lib:Path=LIB)->list:
    "Every import that goes up (or sideways to a later module), and every module without a declared layer."
    rank, bad = {m: i for i, m in enumerate(ORDER)}, []
    for m in modules(lib):
        if m not in rank:
            bad.append(f'{m}.py has no declared layer: add it to LAYERS (tests/test_layers.py) and the README')
            continue
        for line, target in imported(ast.parse((lib / f'{m}.py').read_text())):
            if target in rank and rank[target] >= rank[m]: bad.append(f'{m}.py:{line} imports {target}, which is not below it')
    return bad

def test_imports_flow_one_way():
    bad = upward_imports()
    assert not bad, 'imports must flow data -> tokenizer -> teacher -> student/baselines -> downstream -> experiments/report:\n' + '\n'.join(bad)

def test_every_layer_names_a_module():
    assert sorted(ORDER) == modules(LIB), set(ORDER) ^ set(modules(LIB))

def test_the_check_catches_an_upward_import(tmp_path):
    "The check itself can fail: a module that imports one above it, even inside a function, is reported."
    (tmp_path / 'data.py').write_text('def f():\n    from .tokenizer import fps_numpy\n')
    (tmp_path / 'tokenizer.py').write_text('from foundry_nb.data import Normalize\nimport foundry_nb.stats\n')
    (tmp_path / 'extra.py').write_text('')
    bad = upward_imports(tmp_path)
    assert bad == ['data.py:2 imports tokenizer, which is not below it', 'extra.py has no declared layer: add it to LAYERS (tests/test_layers.py) and the README'], bad

def joined_statements(src:str)->list:
    "Line numbers where a statement starts on the line another one ends on (`a; b`, `if x: a; b`)."
    out = []
    for n in ast.walk(ast.parse(src)):
        for field in ('body', 'orelse', 'finalbody', 'handlers'):
            body = getattr(n, field, None)
            if isinstance(body, list):
                out += [b.lineno for a, b in zip(body, body[1:]) if isinstance(a, ast.AST) and b.lineno <= a.end_lineno]
    return sorted(out)

def test_one_statement_per_line():
    bad = {m: joined_statements((LIB / f'{m}.py').read_text()) for m in modules(LIB)}
    bad = {m: v for m, v in bad.items() if v}
    assert not bad, f'statements joined on one line (split them in the notebooks, then nbdev_export): {bad}'
    assert joined_statements('a = 1; b = 2\nif a:\n    c = 3\n') == [1] and joined_statements('if a: b = 1; c = 2\n') == [1]

def test_no_undefined_names():
    "Every name the library uses is defined or imported in its module: a notebook's namespace can hide a missing import that the exported module lacks."
    from pyflakes.api import check
    from pyflakes.reporter import Reporter
    import io
    out = io.StringIO()
    for m in modules(LIB): check((LIB / f'{m}.py').read_text(), f'{m}.py', Reporter(out, out))
    bad = [l for l in out.getvalue().splitlines() if 'undefined name' in l]
    assert not bad, 'names used but never defined or imported (add the import to the exported cell):\n' + '\n'.join(bad)
