// bench/ui.js URL STATIC_URL RUNS - time, in Debian's chromium, the
// navigation to the load event of the UI's /ledger/resident page (URL, a
// token URL redirected to that page once, then reloaded) and of the same
// page's saved HTML served as a static file (STATIC_URL). Prints one JSON
// line {"ui": [ms...], "static": [ms...]}. Used by bench/ui.sh.
'use strict';
const puppeteer = require('puppeteer-core');
const [url, staticUrl, runsArg] = process.argv.slice(2);
const runs = parseInt(runsArg || '5', 10);

async function timeLoad(page, target) {
  await page.goto(target, { waitUntil: 'load' });
  return page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return n.loadEventEnd - n.startTime;
  });
}

(async () => {
  const args = ['--headless=new', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args });
  const page = await browser.newPage();
  await page.setViewport({ width: 1024, height: 600 });
  await page.setCacheEnabled(false);
  await page.setExtraHTTPHeaders({ 'Accept-Language': 'zh-CN,zh;q=0.9' });
  await page.goto(url, { waitUntil: 'load' }); // the token -> session cookie
  const uiPage = url.replace(/\/\?token=.*$/, '/ledger/resident');
  const out = { ui: [], static: [] };
  await timeLoad(page, uiPage); // warm-up of both (the file cache, chromium's start)
  await timeLoad(page, staticUrl);
  for (let i = 0; i < runs; i++) {
    out.ui.push(await timeLoad(page, uiPage));
    out.static.push(await timeLoad(page, staticUrl));
  }
  await browser.close();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
