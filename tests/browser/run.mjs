// Browser tests: the demo's pages in headless Chromium (Debian's package),
// signed out and signed in, in German and English.
//
// For every page state: 0 axe-core violations of WCAG 2.1 A/AA, no
// horizontal scrolling at 320 CSS px (WCAG 1.4.10), `lang` set. Keyboard
// paths: the skip link, the error summary after a failed submit, a form
// completed with the keyboard alone. Screenshots of the main pages go to
// ALLMENDE_SCREENSHOTS (kept as CI artefacts; docs/screenshots holds the
// ones the README shows).
//
// Usage: node run.mjs  (env: ALLMENDE_BIN = the allmende binary,
// CHROMIUM = the browser, ALLMENDE_DEMO_PORT = first of three ports)

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const bin = resolve(process.env.ALLMENDE_BIN ?? '../../target/debug/allmende');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const port = Number(process.env.ALLMENDE_DEMO_PORT ?? 18080);
const shots = resolve(process.env.ALLMENDE_SCREENSHOTS ?? '../../target/browser-screenshots');
mkdirSync(shots, { recursive: true });

const failures = [];
let checks = 0;
/** While the self-check runs, failures are expected and printed as such. */
let expecting = false;
function fail(state, message) {
  failures.push(`${state}: ${message}`);
  console.log(expecting ? `  (expected) ${message}` : `  FAIL ${message}`);
}

/** Starts the demo in a scratch directory; resolves with its addresses and logins. */
function startDemo() {
  const dir = mkdtempSync(join(tmpdir(), 'allmende-browser-'));
  const child = spawn(bin, ['demo'], {
    cwd: dir,
    env: { ...process.env, ALLMENDE_LISTEN: `127.0.0.1:${port}`, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const ready = new Promise((ok, ko) => {
    const timer = setTimeout(() => ko(new Error(`demo did not start in 120 s:\n${out}`)), 120_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Stop with Ctrl-C.')) {
        clearTimeout(timer);
        ok(out);
      }
    });
    child.on('exit', (code) => ko(new Error(`demo exited with ${code}:\n${out}`)));
  });
  return {
    child,
    dir,
    ready: ready.then((text) => {
      const logins = {};
      for (const m of text.matchAll(/^\s+(\S+@\S+)\s+(\S+)\s+\(/gm)) logins[m[1]] = m[2];
      return { logins };
    }),
  };
}

const base = (i) => `http://localhost:${port + i}`;

async function newPage(browser, lang) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setExtraHTTPHeaders({ 'Accept-Language': lang === 'de' ? 'de-DE,de' : 'en-GB,en' });
  await page.setViewport({ width: 1280, height: 900 });
  return { context, page };
}

async function logIn(page, node, email, password) {
  await page.goto(`${base(node)}/login`, { waitUntil: 'load' });
  await page.type('#email', email);
  await page.type('#password', password);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('main form button[type=submit]')]);
  const out = await page.$('form[action="/logout"]');
  if (!out) throw new Error(`could not log in as ${email} on node ${node}`);
}

/** axe-core on the page as it is now; returns the violations. */
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.evaluate(axeSource);
  }
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  });
}

/** The checks every page state gets. */
async function checkState(page, state, { shot, expectStatus = 200 } = {}) {
  checks++;
  console.log(`- ${state}`);
  const violations = await axe(page);
  for (const v of violations) fail(state, `axe ${v.id}: ${v.help} (${v.nodes.join(', ')})`);
  const lang = await page.evaluate(() => document.documentElement.lang);
  if (!['de', 'en'].includes(lang)) fail(state, `html lang is "${lang}"`);
  const title = await page.title();
  if (!title.trim()) fail(state, 'no title');
  if (shot) await page.screenshot({ path: join(shots, `${shot}.png`), fullPage: false });
  // Reflow: at 320 CSS px nothing may need horizontal scrolling.
  await page.setViewport({ width: 320, height: 640 });
  const overflow = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > width + 1 && getComputedStyle(e).position !== 'absolute')
      .filter((e) => !e.closest('.table-scroll, pre'))
      .slice(0, 3)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + String(e.className).split(' ').join('.') : ''}`);
    return { scroll: document.documentElement.scrollWidth, width, wide };
  });
  if (overflow.scroll > overflow.width) {
    fail(state, `scrolls horizontally at 320 px (${overflow.scroll} px wide: ${overflow.wide.join(', ')})`);
  }
  if (shot) await page.screenshot({ path: join(shots, `${shot}-320.png`), fullPage: false });
  await page.setViewport({ width: 1280, height: 900 });
  void expectStatus;
}

async function visit(page, url, state, options = {}) {
  const response = await page.goto(url, { waitUntil: 'load' });
  const status = response?.status();
  const expected = options.expectStatus ?? 200;
  if (status !== expected) fail(state, `${url} answered ${status}, expected ${expected}`);
  await checkState(page, state, options);
}

/** The first link on `listUrl` whose path matches `pattern` (and whose text is `text`, if given). */
async function firstLink(page, listUrl, pattern, text) {
  await page.goto(listUrl, { waitUntil: 'load' });
  const links = await page.$$eval('main a[href]', (as) => as.map((a) => [a.getAttribute('href'), a.textContent.trim()]));
  const found = links.find(([h, t]) => pattern.test(h) && (text === undefined || t === text))?.[0];
  if (!found) throw new Error(`no link matching ${pattern} on ${listUrl}`);
  return new URL(found, listUrl).toString();
}

/** The checks themselves must be able to fail: a page with known faults. */
async function selfCheck(browser) {
  const { context, page } = await newPage(browser, 'de');
  await page.setContent('<!doctype html><html><head><title>x</title></head><body><img src="data:,"><div style="width:600px">wide</div></body></html>');
  const violations = await axe(page);
  if (!violations.some((v) => v.id === 'image-alt' || v.id === 'html-has-lang')) {
    failures.push(`self-check: axe found nothing on a page with known faults (${JSON.stringify(violations)})`);
  }
  const before = failures.length;
  expecting = true;
  await checkState(page, 'self-check (must fail)');
  expecting = false;
  const caught = failures.splice(before);
  if (!caught.some((f) => f.includes('scrolls horizontally'))) failures.push('self-check: the reflow check missed a 600 px wide element');
  if (!caught.some((f) => f.includes('html lang'))) failures.push('self-check: the lang check missed a page without lang');
  await context.close();
}

async function keyboardPaths(browser, logins) {
  const { context, page } = await newPage(browser, 'de');
  const state = 'keyboard';
  console.log('- keyboard paths');
  checks++;
  // Skip link: the first Tab lands on it, Enter moves focus to main.
  await page.goto(`${base(0)}/projects`, { waitUntil: 'load' });
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => ({ href: document.activeElement.getAttribute('href'), text: document.activeElement.textContent }));
  if (first.href !== '#main') fail(state, `first Tab lands on ${JSON.stringify(first)}, not the skip link`);
  await page.keyboard.press('Enter');
  const focused = await page.evaluate(() => document.activeElement.id);
  if (focused !== 'main') fail(state, `the skip link moved focus to "${focused}", not main`);

  // A form completed with the keyboard alone: log in.
  await page.goto(`${base(0)}/login`, { waitUntil: 'load' });
  await page.focus('#email');
  await page.keyboard.type('digital@ulm.example');
  await page.keyboard.press('Tab');
  const onPassword = await page.evaluate(() => document.activeElement.id);
  if (onPassword !== 'password') fail(state, `Tab from e-mail goes to "${onPassword}", not the password`);
  await page.keyboard.type(logins['digital@ulm.example']);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
  if (!(await page.$('form[action="/logout"]'))) fail(state, 'Enter in the login form did not log in');

  // A failed submit: the error summary has focus, the title says so, and
  // each message links to its field.
  await page.goto(`${base(0)}/projects/new`, { waitUntil: 'load' });
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.$eval('main form[method=post]', (f) => {
      for (const e of f.querySelectorAll('[required]')) e.removeAttribute('required');
      f.querySelector('button[type=submit]').click();
    }),
  ]);
  // Browsers apply `autofocus` at the first rendering after load.
  await page
    .waitForFunction(() => document.activeElement && document.activeElement.closest('.error-summary'), { timeout: 3000 })
    .catch(() => {});
  const summary = await page.evaluate(() => ({
    focused: document.activeElement.classList.contains('error-summary') || !!document.activeElement.closest('.error-summary'),
    title: document.title,
    links: [...document.querySelectorAll('.error-summary a')].map((a) => a.getAttribute('href')),
  }));
  if (!summary.focused) fail(state, 'after a failed submit the error summary does not have focus');
  if (!summary.title.startsWith('Fehler: ')) fail(state, `the title after a failed submit is "${summary.title}"`);
  if (summary.links.length === 0) fail(state, 'the error summary links to no field');
  for (const href of summary.links) {
    if (!(await page.$(href))) fail(state, `the error summary links to ${href}, which is not on the page`);
  }
  await checkState(page, 'project form with errors (de)', { shot: 'form-errors' });
  // Following the first link of the summary puts focus into the field.
  if (summary.links[0]) {
    await page.focus(`.error-summary a[href="${summary.links[0]}"]`);
    await page.keyboard.press('Enter');
    const target = await page.evaluate(() => '#' + document.activeElement.id);
    if (target !== summary.links[0]) fail(state, `the summary's link ${summary.links[0]} focuses ${target}`);
  }
  await context.close();
}

async function pages(browser, lang, logins) {
  const suffix = `(${lang})`;
  const shot = (name) => (lang === 'de' ? name : undefined);
  // Signed out.
  {
    const { context, page } = await newPage(browser, lang);
    const project = await firstLink(page, `${base(0)}/projects`, /^\/projects\/[0-9a-f-]{36}$/);
    const question = await firstLink(page, `${base(0)}/questions`, /^\/questions\/[0-9a-f-]{36}$/);
    const solution = await firstLink(page, `${base(0)}/solutions`, /^\/solutions\/[0-9a-f-]{36}$/, 'Hundesteuer online');
    await visit(page, `${base(0)}/`, `home ${suffix}`, { shot: shot('home') });
    await visit(page, `${base(0)}/projects`, `projects ${suffix}`, { shot: shot('projects') });
    await visit(page, project, `a project ${suffix}`, { shot: shot('project') });
    await visit(page, `${base(0)}/questions`, `questions ${suffix}`);
    await visit(page, question, `a question ${suffix}`, { shot: shot('question') });
    await visit(page, `${base(0)}/solutions`, `solutions ${suffix}`);
    await visit(page, solution, `a solution ${suffix}`, { shot: shot('solution') });
    await visit(page, `${base(0)}/orgs`, `organizations ${suffix}`);
    await visit(page, `${base(0)}/orgs/ulm`, `an organization ${suffix}`, { shot: shot('organization') });
    await visit(page, `${base(2)}/orgs/digitalverbund-bw`, `a group ${suffix}`);
    await visit(page, `${base(0)}/services`, `services ${suffix}`);
    await visit(page, `${base(0)}/search?q=Hundesteuer`, `search ${suffix}`, { shot: shot('search') });
    await visit(page, `${base(0)}/login`, `login ${suffix}`);
    await visit(page, `${base(0)}/impressum`, `imprint ${suffix}`);
    await visit(page, `${base(0)}/datenschutz`, `privacy ${suffix}`);
    await visit(page, `${base(0)}/barrierefreiheit`, `accessibility statement ${suffix}`);
    await visit(page, `${base(0)}/projects/00000000-0000-4000-8000-000000000000`, `not found ${suffix}`, { expectStatus: 404 });
    await context.close();
  }
  // Signed in (Ulm's staff, who also operate the node).
  {
    const { context, page } = await newPage(browser, lang);
    await logIn(page, 0, 'digital@ulm.example', logins['digital@ulm.example']);
    const solution = await firstLink(page, `${base(0)}/solutions`, /^\/solutions\/[0-9a-f-]{36}$/, 'Hundesteuer online');
    await visit(page, `${base(0)}/`, `home, signed in ${suffix}`, { shot: shot('home-signed-in') });
    await visit(page, `${base(0)}/network`, `network ${suffix}`, { shot: shot('network') });
    await visit(page, `${base(0)}/projects/new`, `new project ${suffix}`, { shot: shot('new-project') });
    await visit(page, `${base(0)}/questions/new`, `new question ${suffix}`);
    await visit(page, `${base(0)}/solutions/new`, `new solution ${suffix}`);
    await visit(page, `${base(0)}/solutions/import`, `import publiccode.yml ${suffix}`);
    await visit(page, solution, `a solution, signed in ${suffix}`);
    await visit(page, `${base(0)}/account`, `account ${suffix}`);
    await visit(page, `${base(0)}/orgs/ulm/edit`, `edit profile ${suffix}`);
    await visit(page, `${base(0)}/admin/queue`, `operations ${suffix}`);
    await visit(page, `${base(0)}/admin/organizations`, `organizations admin ${suffix}`);
    await visit(page, `${base(0)}/admin/policy`, `federation policy ${suffix}`);
    await visit(page, `${base(0)}/admin/audit`, `audit log ${suffix}`);
    await visit(page, `${base(0)}/orgs/ulm/people`, `people ${suffix}`, { shot: shot('people') });
    await visit(page, `${base(0)}/orgs/ulm/branding`, `logo and colour ${suffix}`);
    await visit(page, `${base(0)}/services/leika:99041006017000`, `a service, signed in ${suffix}`);
    // Inviting someone: the mail lands in the demo's mail directory; its
    // link opens the page where the new person sets a password.
    const invitee = `neu-${lang}@ulm.example`;
    await page.goto(`${base(0)}/orgs/ulm/people`, { waitUntil: 'load' });
    await page.type('#email', invitee);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form[action$="/people/invite"] button[type=submit]')]);
    await checkState(page, `people after an invitation ${suffix}`);
    const link = await mailLink(invitee, '/invitations/');
    const { context: anon, page: fresh } = await newPage(browser, lang);
    await visit(fresh, link, `accepting an invitation ${suffix}`);
    await anon.close();
    await context.close();
  }
  {
    const { context, page } = await newPage(browser, lang);
    await visit(page, `${base(0)}/password/forgot`, `forgot password ${suffix}`);
    await context.close();
  }
}

/** Quoted-printable undone (what mail bodies may be encoded with). */
function unQuote(text) {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/(?:=[0-9A-F]{2})+/g, (m) => Buffer.from(m.split('=').slice(1).map((h) => parseInt(h, 16))).toString('utf8'));
}

/** The link containing `part` in the newest mail to `to` the demo wrote (waits up to 10 s). */
async function mailLink(to, part) {
  const dir = join(demo.dir, 'data', 'demo-mail', 'demo-ulm');
  for (let i = 0; i < 100; i++) {
    let files = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().reverse();
    } catch {}
    for (const f of files) {
      const raw = readFileSync(join(dir, f), 'utf8');
      if (!raw.includes(`To: ${to}`)) continue;
      let body = raw.slice(raw.search(/\r?\n\r?\n/));
      if (/Content-Transfer-Encoding: base64/i.test(raw)) body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
      else body = unQuote(body);
      const found = body.split(/\s+/).find((w) => w.startsWith('http') && w.includes(part));
      if (found) return found;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} with a link to ${part} in ${dir}`);
}

const demo = startDemo();
let browser;
try {
  const { logins } = await demo.ready;
  if (!logins['digital@ulm.example']) throw new Error('the demo printed no login for digital@ulm.example');
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
  await selfCheck(browser);
  await keyboardPaths(browser, logins);
  for (const lang of ['de', 'en']) await pages(browser, lang, logins);
} catch (e) {
  failures.push(`run: ${e.stack ?? e}`);
} finally {
  await browser?.close();
  demo.child.kill('SIGTERM');
  rmSync(demo.dir, { recursive: true, force: true });
}
console.log(`browser tests: ${checks} page states checked, ${failures.length} failures; screenshots in ${shots}`);
if (failures.length) {
  for (const f of failures) console.error(`FAIL ${f}`);
  process.exit(1);
}
