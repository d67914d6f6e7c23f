// ui_browser.js URL OUTDIR RECORD_ID - drive `vledger ui` in Debian's
// chromium (puppeteer-core over the DevTools protocol); called by
// ui_browser.sh, which made the node. Prints "ok ..." per check, exits 1 on
// the first failure. Screenshots go to OUTDIR/*.png.
'use strict';
const { check, run } = require('./lib.js');

const [url, outdir, recordId] = process.argv.slice(2);
const base = url.replace(/\/\?token=.*$/, '');

run(base, 'zh-CN,zh;q=0.9,en;q=0.5', null, async ({ page, dialogs, consoleErrors, external }) => {
  // 1. the token URL: redirected to / without the token, the session kept in a cookie
  let resp = await page.goto(url, { waitUntil: 'load' });
  check(resp.status() === 200, 'the token URL opens the home page');
  check(!page.url().includes('token='), 'the address bar no longer holds the token');
  const cookies = await page.cookies();
  check(cookies.some((c) => c.httpOnly && c.sameSite === 'Strict'), 'the session cookie is HttpOnly and SameSite=Strict');
  let text = await page.evaluate(() => document.body.innerText);
  check(text.includes('常住人口'), 'the ledgers are listed (in Chinese)');
  check(/常住人口[\s\S]*?\b7\b/.test(text), 'with the count of residents');
  const navBg = await page.evaluate(() => getComputedStyle(document.querySelector('nav.top')).backgroundColor);
  check(navBg === 'rgb(36, 71, 107)', 'the style sheet from /ui.css applies under the CSP');
  await page.screenshot({ path: outdir + '/home.png', fullPage: true });

  // 2. the list of the village, filtered with the --where language through the filter box
  await page.click('a[href="/ledger/resident"]');
  await page.waitForSelector('input.where');
  let rows = await page.$$eval('table.records tr', (t) => t.length - 1);
  check(rows === 7, 'the resident list shows 7 records (got ' + rows + ')');
  await page.type('input.where', 'residence_kind=migrant');
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form.filter button')]);
  rows = await page.$$eval('table.records tr', (t) => t.length - 1);
  check(rows === 2, 'the filter residence_kind=migrant leaves 2 records (got ' + rows + ')');
  check(page.url().includes('where=residence_kind'), 'the filtered list has a bookmarkable address');
  await page.screenshot({ path: outdir + '/list-filtered.png', fullPage: true });
  check((await page.$$eval('table.records td', (t) => t.map((x) => x.textContent))).every((c) => !c.includes('script')),
    'personal fields are masked in the list');

  // 3. the record page: masked values, a reveal (POST with the CSRF token), shown as text
  resp = await page.goto(base + '/record/' + recordId, { waitUntil: 'load' });
  check(resp.status() === 200, 'the record page opens');
  text = await page.evaluate(() => document.body.innerText);
  check(!text.includes('alert(1)'), 'the name is masked before a reveal');
  check(text.includes('***'), 'masked values are shown as a mask');
  check(text.includes('历史') || text.includes('History'), 'the history is on the page');
  await page.screenshot({ path: outdir + '/record.png', fullPage: true });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('form[action$="/reveal"] input[value="name"] ~ button')]);
  text = await page.evaluate(() => document.body.innerText);
  check(text.includes('<script>alert(1)</script>'), 'the revealed value <script>alert(1)</script> is shown as text');
  const scripts = await page.$$eval('script', (s) => s.map((x) => x.src || x.textContent));
  check(scripts.every((s) => s.endsWith('/ui.js')), 'the only script element is /ui.js');
  await new Promise((r) => setTimeout(r, 300));
  check(dialogs.length === 0, 'no dialog fired');
  await page.screenshot({ path: outdir + '/record-revealed.png', fullPage: true });

  // 4. English under an English browser locale
  await page.setExtraHTTPHeaders({ 'Accept-Language': 'en-US,en;q=0.9' });
  await page.goto(base + '/', { waitUntil: 'load' });
  text = await page.evaluate(() => document.body.innerText);
  check(text.includes('Residents'), 'English labels under an English locale');
  await page.screenshot({ path: outdir + '/home-en.png', fullPage: true });

  // 5. a 404 page, and nothing fetched from elsewhere
  resp = await page.goto(base + '/no/such/page', { waitUntil: 'load' });
  check(resp.status() === 404, 'an unknown address gives the 404 page');
  await page.screenshot({ path: outdir + '/not-found.png', fullPage: true });
  check(external.length === 0, 'nothing fetched from elsewhere: ' + external.join(' '));
  const cspErrors = consoleErrors.filter((e) => /Content Security Policy|Refused/.test(e));
  check(cspErrors.length === 0, 'no CSP violation: ' + cspErrors.join(' | '));
});
