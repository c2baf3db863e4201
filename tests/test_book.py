"""The book a reader opens: chapters committed with their outputs (and not stale), the README rendered from the
landing page, and the Sphinx site checked in a real browser (headless Chromium)."""
import functools, http.server, io, json, os, re, shutil, subprocess, sys, threading, time
from pathlib import Path
import pytest
from conftest import ROOT

NBS = ROOT / 'nbs'
CHAPTERS = sorted(p for p in NBS.glob('[0-9]*.ipynb')) + [NBS / 'index.ipynb']
REPRODUCTION = ['pretrain_teacher', 'distill', 'ablations', 'efficiency', 'transfer', 'fewshot']   # the reproduction notebooks whose latest run is committed
RUNS = ROOT / 'runs'

def _code_cells(p): return [c for c in json.loads(p.read_text())['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).strip()]

def _text(outputs)->str:
    "The text a reader sees in a cell's outputs (streams and plain-text results), volatile numbers (times, memory addresses) masked."
    parts = []
    for o in outputs:
        if o['output_type'] == 'stream' and o.get('name') == 'stdout': parts.append(''.join(o['text']))
        elif o['output_type'] in ('execute_result', 'display_data') and 'text/plain' in o['data']: parts.append(''.join(o['data']['text/plain']))
    s = '\n'.join(sorted(p.strip() for p in parts))   # order-free: executors interleave a figure and a print differently
    s = re.sub(r'0x[0-9a-f]+', '0x…', s)
    return re.sub(r'\d+(\.\d+)? ?(s|ms|min|µs|seconds)\b', '… s', s)

@pytest.mark.parametrize('nb', CHAPTERS + [NBS / f'{n}.ipynb' for n in REPRODUCTION], ids=lambda p: p.stem)
def test_committed_with_outputs(nb):
    "Opening a chapter without running it shows its results: most of its code cells carry outputs."
    cells = _code_cells(nb); shown = [c for c in cells if c.get('outputs')]
    assert shown, f'{nb.name} is committed without outputs: execute it (chapters: make book; reproduction notebooks: run them with papermill, then python -m foundry_nb.report --outputs runs/X.ipynb nbs/X.ipynb)'
    assert any(o.get('output_type') in ('display_data', 'execute_result') or o.get('name') == 'stdout' for c in shown for o in c['outputs']), f'{nb.name}: no figure, table or result among its outputs'

@pytest.mark.parametrize('nb', CHAPTERS + [NBS / f'{n}.ipynb' for n in REPRODUCTION], ids=lambda p: p.stem)
def test_outputs_are_those_of_the_current_code(nb):
    "A committed output came from the code now above it: the notebook's stamp (made when it was executed) matches its code cells."
    from foundry_nb.book import stale
    assert stale(nb) is None, stale(nb)

CHEAP = ['12_stats', '10_report', '05_cau']   # chapters that run in seconds and print deterministic text: re-run to catch library drift

@pytest.mark.parametrize('name', CHEAP)
def test_cheap_chapter_not_stale(tmp_path, name):
    "Re-executing a cheap chapter gives the same text outputs as the committed ones (a library change did not alter them)."
    from execnb.nbio import read_nb
    from execnb.shell import CaptureShell
    nb_path = NBS / f'{name}.ipynb'
    committed = [_text(c.get('outputs', [])) for c in _code_cells(nb_path)]
    nb = read_nb(nb_path)
    cwd = os.getcwd(); os.chdir(NBS)
    try: CaptureShell().run_all(nb, exc_stop=True)
    finally: os.chdir(cwd)
    fresh = [_text(c.get('outputs', [])) for c in nb.cells if c.cell_type == 'code' and c.source.strip()]
    assert len(fresh) == len(committed)
    stale = [i for i, (a, b) in enumerate(zip(committed, fresh)) if a != b]
    assert not stale, f'{name}.ipynb: committed outputs of code cells {stale} differ from a fresh run: re-execute the chapters (make book)'

def test_readme_is_rendered_from_index():
    "README.md is the landing page notebook rendered with the current results: the two cannot drift."
    from foundry_nb.report import render_readme
    assert (ROOT / 'README.md').read_text() == render_readme(NBS / 'index.ipynb', ROOT / 'figures'), \
        'README.md differs from nbs/index.ipynb + figures/*.json: edit the index notebook, then run `make results`'

# ---------------------------------------------------------------------------------------------------------------
# The rendered site in headless Chromium

def _chromium():
    "Paths of chromium and chromedriver, installed from the Debian packages where absent (skip where that cannot be done)."
    find = lambda: (shutil.which('chromium') or shutil.which('chromium-browser'), shutil.which('chromedriver'))
    b, d = find()
    if not (b and d) and shutil.which('apt-get') and hasattr(os, 'geteuid') and os.geteuid() == 0:
        for cmd in (['apt-get', 'install', '-y', '-qq', 'chromium', 'chromium-driver'], ['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', 'chromium', 'chromium-driver']):
            try: r = subprocess.run(cmd, capture_output=True, timeout=900, env={**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'})
            except subprocess.TimeoutExpired: continue
            b, d = find()
            if b and d: break
    if not (b and d): pytest.skip('headless Chromium and chromedriver are absent and could not be installed from the Debian packages (needs root and apt-get): the browser check of the book did not run')
    return b, d

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The book built from the committed notebooks (as `make docs` does), served on the loopback address."
    pytest.importorskip('myst_nb', reason='the docs toolchain (pip install -e ".[dev]") is not installed')
    out = tmp_path_factory.mktemp('book') / '_docs'
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-W', '--keep-going', str(NBS), str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f'the book does not build without warnings:\n{r.stderr[-4000:]}'
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield out, f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown()

@pytest.fixture(scope='module')
def browser():
    b, d = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions(); opts.binary_location = b
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1280,1000', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--ignore-gpu-blocklist'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    drv = webdriver.Chrome(service=Service(d), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()

def _pages(out): return sorted(p.relative_to(out).as_posix() for p in out.glob('*.html') if p.name not in ('genindex.html', 'search.html'))

def _ids(out, page, cache={}):
    if page not in cache: cache[page] = set(re.findall(r'\bid="([^"]+)"', (out / page).read_text(errors='replace')))
    return cache[page]

def _visit(drv, url):
    drv.get(url)
    for _ in range(100):
        if drv.execute_script('return document.readyState') == 'complete': break
        time.sleep(0.1)
    time.sleep(0.3)
    return [e for e in drv.get_log('browser') if e['level'] == 'SEVERE']

def test_every_page_in_the_browser(site, browser):
    "Every page: no JavaScript error, every image loaded, every internal link to an existing page and anchor."
    out, base = site
    pages = _pages(out); assert 'index.html' in pages and len(pages) >= 20
    problems = []
    for page in pages:
        errors = _visit(browser, f'{base}/{page}')
        problems += [f'{page}: JavaScript/console error: {e["message"][:200]}' for e in errors]
        broken = browser.execute_script('return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)')
        problems += [f'{page}: image not loaded: {s}' for s in broken]
        for href in browser.execute_script('return [...document.querySelectorAll("a[href]")].map(a => a.href)'):
            if not href.startswith(base): continue
            path, _, frag = href[len(base) + 1:].partition('#')
            path = path or 'index.html'
            if not (out / path).exists(): problems.append(f'{page}: broken link to {path}'); continue
            if frag and path.endswith('.html') and frag not in _ids(out, path): problems.append(f'{page}: link to a missing anchor {path}#{frag}')
    assert not problems, '\n'.join(problems[:40])

def _nonblank(png:bytes)->int:
    "Number of distinct colours in a screenshot (a blank canvas has one or two)."
    from PIL import Image
    im = Image.open(io.BytesIO(png)).convert('RGB').resize((160, 120))
    return len(im.getcolors(im.width * im.height))

def test_3d_view_renders_and_screenshots(site, browser):
    "A plotly 3D view draws (a WebGL canvas with non-blank pixels); screenshots of the landing page and the SuperToken chapter go to runs/."
    out, base = site
    RUNS.mkdir(exist_ok=True)
    _visit(browser, f'{base}/index.html'); browser.save_screenshot(str(RUNS / 'book_index.png'))
    errors = _visit(browser, f'{base}/07_student.html')
    assert not errors, errors
    plots = browser.find_elements('css selector', '.js-plotly-plot')
    assert plots, '07_student.html has no plotly view: is the chapter committed executed?'
    browser.execute_script('arguments[0].scrollIntoView()', plots[0]); time.sleep(2)
    assert browser.find_elements('css selector', '.js-plotly-plot .gl-container canvas, .js-plotly-plot canvas'), 'the 3D view has no WebGL canvas'
    shot = plots[0].screenshot_as_png
    (RUNS / 'book_supertokens_3d.png').write_bytes(shot)
    browser.save_screenshot(str(RUNS / 'book_supertokens.png'))
    assert _nonblank(shot) > 20, 'the 3D view rendered blank'
