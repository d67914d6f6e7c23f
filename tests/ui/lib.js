// lib.js - what the browser tests share (ui_browser.js, ui_pages.js): the
// check that prints "ok ..." or exits 1, and run(), which launches Debian's
// chromium (puppeteer-core, CHROMIUM from lib.sh), opens one page that
// records dialogs (dismissed), console errors and requests to anywhere but
// BASE, calls the test's body with them and closes the browser; any throw
// is a failure (exit 1).
'use strict';
const puppeteer = require('puppeteer-core');

function check(cond, what) {
  if (!cond) {
    console.log('FAIL: ' + what);
    process.exit(1);
  }
  console.log('ok ' + what);
}

// run(base, acceptLanguage, ignoreConsole, body): body({ page, dialogs,
// consoleErrors, external }). Console errors whose text starts with
// ignoreConsole (null: none ignored) are not recorded; page errors are.
function run(base, acceptLanguage, ignoreConsole, body) {
  (async () => {
    const args = ['--headless=new', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'];
    if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
    const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1024, height: 600 });
      await page.setExtraHTTPHeaders({ 'Accept-Language': acceptLanguage });
      const dialogs = [];
      page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
      const consoleErrors = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && !(ignoreConsole && m.text().startsWith(ignoreConsole))) consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      const external = [];
      page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) external.push(r.url()); });
      await body({ page, dialogs, consoleErrors, external });
    } finally {
      await browser.close();
    }
  })().catch((e) => {
    console.log('FAIL: ' + (e && e.stack ? e.stack : e));
    process.exit(1);
  });
}

module.exports = { check, run };
