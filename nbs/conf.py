# Sphinx configuration of the book (`make docs` -> _docs/): the executed notebooks of nbs/ rendered by MyST-NB as
# they are committed (nothing is re-executed), with plotly.js and MathJax served from installed packages (the site
# works offline) and every `symbol` in backticks linked to its API entry (written by foundry_nb.report.api_reference).
import importlib, inspect, re, shutil
from pathlib import Path
import foundry_nb

project, author = 'foundry-nb', 'foundry-nb contributors'
copyright = '2026 onwards, foundry-nb contributors'
release = foundry_nb.__version__
extensions = ['myst_nb', 'sphinx-mathjax-offline']
root_doc = 'index'
exclude_patterns = ['_docs', '**/.ipynb_checkpoints', 'conf.py']
nb_execution_mode = 'off'                              # the committed outputs are the book
nb_output_stderr = 'remove'                            # progress bars and warnings stay out of the pages
myst_enable_extensions = ['dollarmath', 'amsmath']
myst_heading_anchors = 3
html_theme = 'sphinx_book_theme'
html_title = 'foundry-nb'
html_theme_options = dict(show_toc_level=2, use_download_button=False, use_fullscreen_button=False)
suppress_warnings = ['mystnb.unknown_mime_type', 'myst.header', 'misc.highlighting_failure']
nb_mime_priority_overrides = [('html', 'application/vnd.plotly.v1+json', None)]   # the HTML div of `book_figures` instead

_static = Path(__file__).parent / '_docs_static'       # plotly.js copied from the installed package at build time
_static.mkdir(exist_ok=True)
shutil.copy(Path(importlib.util.find_spec('plotly').origin).parent / 'package_data' / 'plotly.min.js', _static / 'plotly.min.js')
if not (_static / 'favicon.png').exists():                # a page icon, so browsers do not ask the server for /favicon.ico
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    _f = plt.figure(figsize=(0.32, 0.32), dpi=100); _f.add_axes([0, 0, 1, 1]).scatter([0.3, 0.7, 0.5], [0.3, 0.35, 0.75], s=20, c=['C0', 'C1', 'C2']); plt.axis('off')
    _f.savefig(_static / 'favicon.png', transparent=True); plt.close(_f)
html_favicon = str(_static / 'favicon.png')
html_context = dict(default_mode='light')               # the theme's colour mode, stated (its default logs a console error)
html_static_path = [str(_static)]
html_js_files = ['plotly.min.js']
exclude_patterns.append('_docs_static')

def _symbols()->dict:
    "short and full name -> (notebook docname, anchor) for every exported symbol"
    out, seen = {}, {}
    for mod in sorted(foundry_nb.__dict__.get('__all__', [])) or [m.stem for m in Path(foundry_nb.__file__).parent.glob('[a-z]*.py')]:
        m = importlib.import_module(f'foundry_nb.{mod}')
        src = Path(m.__file__).read_text().split('\n', 5)
        nb = next((re.search(r'nbs/(\w+)\.ipynb', l).group(1) for l in src if 'File to edit' in l), None)
        if nb is None: continue
        for name in getattr(m, '__all__', []):
            o = getattr(m, name, None)
            if not (inspect.isclass(o) or inspect.isfunction(o)): continue
            full = f'foundry_nb.{mod}.{name}'; out[full] = (nb, full); seen.setdefault(name, []).append(full)
    for name, fulls in seen.items():                    # short names too, where unique and not a generic method name
        if len(fulls) == 1 and name not in ('forward', 'forward_tokens', 'pooled', 'main'): out[name] = out[fulls[0]]
    return out

def _link_symbols(app, doctree, docname):
    from docutils import nodes
    syms = app.env.foundry_symbols if hasattr(app.env, 'foundry_symbols') else _symbols()
    app.env.foundry_symbols = syms
    for lit in list(doctree.findall(nodes.literal)):
        if isinstance(lit.parent, nodes.reference): continue
        key = lit.astext().strip().removesuffix('()')
        if key not in syms: continue
        nb, anchor = syms[key]
        ref = nodes.reference('', '', internal=True, refuri=app.builder.get_relative_uri(docname, nb) + '#' + anchor, classes=['api-link'])
        lit.replace_self(ref); ref.append(lit)

def setup(app):
    app.connect('doctree-resolved', _link_symbols)
