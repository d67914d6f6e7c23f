// ui_pages.js URL OUTDIR HOME RECORD_ID - the forms, conflicts and sync
// pages of `vledger ui` in Debian's chromium (puppeteer-core); called by
// ui_pages.sh, which made the village HOME (whose RECORD_ID has a conflict
// with the county) and started the UI. Prints "ok ..." per check, exits 1
// on the first failure. Screenshots: OUTDIR/pages-*.png.
'use strict';
const { execSync } = require('child_process');
const { check, run } = require('./lib.js');

const [url, outdir, home, conflictId] = process.argv.slice(2);
const base = url.replace(/\/\?token=.*$/, '');

// Every file of the node's repository with its hash: "nothing written" is
// this string unchanged.
function snapshot() {
  return execSync("find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum",
    { cwd: home + '/repo.git', encoding: 'utf8' });
}

// (refused requests log "Failed to load resource": expected here; a CSP
// violation or a script error is not)
run(base, 'zh-CN,zh;q=0.9', 'Failed to load resource', async ({ page, dialogs, consoleErrors, external }) => {
  const text = () => page.evaluate(() => document.body.innerText);
  const save = async () => {
    const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
      page.click('button[name="op"][value="save"]')]);
    return resp;
  };

  let resp = await page.goto(url, { waitUntil: 'load' });
  check(resp.status() === 200, 'the token URL opens the UI');

  // 1. the form of the resident ledger, from its schema
  resp = await page.goto(base + '/ledger/resident/new', { waitUntil: 'load' });
  check(resp.status() === 200, 'the new-resident form opens');
  check((await page.$eval('label[for="in-gender"]', (e) => e.textContent)) === '性别', 'labels are in Chinese');
  check((await page.$$eval('#in-residence_kind option', (o) => o.map((x) => x.textContent))).includes('流动人口'),
    'an enum is a drop-down of its Chinese labels');
  check((await page.$eval('#in-birth_date', (e) => e.type)) === 'date', 'a date has a date picker');
  check((await page.$$('input[type="checkbox"][name="v.tags"]')).length === 5, 'a set is a row of check boxes');
  check((await page.$$('#field-id_number .pii-mark')).length === 1, 'a personal field is marked');
  await page.screenshot({ path: outdir + '/pages-new.png', fullPage: true });

  // 2. a wrong ID number: the message beside the field, nothing written
  await page.type('#in-name', '李四');
  await page.type('#in-id_number', '110101196001010021');
  await page.select('#in-residence_kind', 'migrant');
  await page.type('#in-address', '某村三组');
  await page.type('#in-grid', '网格七');
  await page.select('#in-source', 'worker_survey');
  await page.click('input[name="v.tags"][value="elderly_alone"]');
  const before = snapshot();
  resp = await save();
  check(resp.status() === 400, 'a wrong ID number is refused (400)');
  const msg = await page.$eval('#field-id_number .field-error', (e) => e.textContent).catch(() => '');
  check(msg.includes('id_number') && msg.includes('校验位'), 'the message, in Chinese, is beside the ID number field: ' + msg);
  check((await page.$$('.field-error')).length === 1, 'no other field has a message');
  check(snapshot() === before, 'the repository is byte for byte unchanged');
  check((await page.$eval('#in-name', (e) => e.value)) === '李四', 'what was typed is still in the form');
  check(await page.$eval('input[name="v.tags"][value="elderly_alone"]', (e) => e.checked), 'the ticked box stays ticked');
  await page.screenshot({ path: outdir + '/pages-new-error.png', fullPage: true });

  // 3. corrected: saved, and the browser goes to the record with a confirmation
  await page.$eval('#in-id_number', (e) => { e.value = ''; });
  await page.type('#in-id_number', '11010119600101002X');
  resp = await save();
  check(resp.status() === 200 && /\/record\/[0-9a-z]{26}\?done=added$/.test(page.url()), 'saved: the record page ' + page.url());
  const newId = page.url().replace(/^.*\/record\/([0-9a-z]{26}).*$/, '$1');
  check(snapshot() !== before, 'the record was written');
  await page.screenshot({ path: outdir + '/pages-added.png', fullPage: true });

  // 4. found in the filtered list
  await page.goto(base + '/ledger/resident', { waitUntil: 'load' });
  await page.type('input.where', 'grid=网格七');
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form.filter button')]);
  let rows = await page.$$eval('table.records tr', (t) => t.length - 1);
  check(rows === 1, 'the filter grid=网格七 finds it (rows: ' + rows + ')');
  check((await page.$$eval('table.records a', (a) => a.map((x) => x.getAttribute('href')))).some((h) => h.includes(newId)),
    'the row links to the new record');
  await page.screenshot({ path: outdir + '/pages-list.png', fullPage: true });

  // 5. edited: only what changed is written; personal values are not in the form
  resp = await page.goto(base + '/record/' + newId + '/edit', { waitUntil: 'load' });
  check(resp.status() === 200, 'the edit form opens');
  check(!(await page.content()).includes('李四'), 'the edit form holds no personal value');
  check((await page.$eval('#in-grid', (e) => e.value)) === '网格七', 'the edit form shows the current values');
  check((await page.$eval('#in-residence_kind', (e) => e.value)) === 'migrant', 'and the current choices');
  await page.screenshot({ path: outdir + '/pages-edit.png', fullPage: true });
  await page.$eval('#in-grid', (e) => { e.value = ''; });
  await page.type('#in-grid', '网格八');
  resp = await save();
  check(/\?done=edited$/.test(page.url()), 'the edit is saved: ' + page.url());
  check((await text()).includes('网格八'), 'the record shows the new value');
  await page.screenshot({ path: outdir + '/pages-edited.png', fullPage: true });

  // 6. the conflict the county made: candidates side by side, a button each
  resp = await page.goto(base + '/conflicts', { waitUntil: 'load' });
  check(resp.status() === 200, 'the conflicts page opens');
  const cands = await page.$$eval('table.candidates td', (t) => t.map((x) => x.innerText));
  check(cands.length === 2, 'two candidates side by side (' + cands.length + ')');
  const mine = cands.findIndex((c) => c.includes('鼓楼社区'));
  check(mine >= 0 && cands[1 - mine].includes('彭水县民政局'), 'each says who wrote it');
  check(cands.every((c) => !c.includes('195003010')), 'the candidates are masked');
  await page.screenshot({ path: outdir + '/pages-conflicts.png', fullPage: true });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('form[action="/record/' + conflictId + '/resolve"] input[name="take"][value="' + (mine + 1) + '"] ~ button')]);
  check(/\/conflicts\?done=resolved$/.test(page.url()), 'resolved: back on the conflicts page');
  check((await page.$$('table.candidates')).length === 0 && (await page.$$('p.ok')).length >= 1,
    'no conflict is left');
  await page.screenshot({ path: outdir + '/pages-conflicts-resolved.png', fullPage: true });

  // 7. the history of that record: both nodes' versions and the choice
  await page.goto(base + '/record/' + conflictId, { waitUntil: 'load' });
  const hist = await text();
  check(hist.includes('彭水县民政局') && hist.includes('鼓楼社区'), 'the history names both writers');
  await page.screenshot({ path: outdir + '/pages-history.png', fullPage: true });

  // 8. the sync page lists the county; "sync now" runs against its server
  resp = await page.goto(base + '/sync', { waitUntil: 'load' });
  check(resp.status() === 200, 'the sync page opens');
  const peers = await page.$$eval('table.peers td', (t) => t.map((x) => x.innerText));
  check(peers.includes('county'), 'it lists the peer');
  await page.screenshot({ path: outdir + '/pages-sync.png', fullPage: true });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 60000 }),
    page.click('form[action="/sync"] input[name="peer"][value="county"] ~ button')]);
  const synced = await page.$$eval('p.ok', (p) => p.map((x) => x.innerText));
  const failed = await page.$$eval('p.error', (p) => p.map((x) => x.innerText));
  check(synced.some((s) => s.includes('county')), 'sync now succeeded: ' + synced.concat(failed).join(' | '));
  const last = await page.$$eval('table.peers td', (t) => t.map((x) => x.innerText));
  check(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00/.test(last[2]), 'the last success is shown in +08:00: ' + last[2]);
  await page.screenshot({ path: outdir + '/pages-sync-done.png', fullPage: true });

  // 9. a POST without the CSRF token (or with a wrong one) is refused and writes nothing
  const before2 = snapshot();
  // (a form built in the page and submitted: the page's CSP allows no fetch)
  const post = async (path, fields) => {
    const [r] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
      page.evaluate((p, f) => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = p;
        for (const [k, v] of f) {
          const i = document.createElement('input');
          i.type = 'hidden';
          i.name = k;
          i.value = v;
          form.appendChild(i);
        }
        document.body.appendChild(form);
        form.submit();
      }, path, fields)]);
    return r.status();
  };
  const codes = [
    await post('/ledger/resident/new', [['v.name', 'x'], ['v.residence_kind', 'registered'], ['v.address', 'y'],
      ['v.source', 'self_report'], ['op', 'save']]),
    await post('/ledger/resident/new', [['csrf', '00'], ['v.name', 'x'], ['v.residence_kind', 'registered'],
      ['v.address', 'y'], ['v.source', 'self_report'], ['op', 'save']]),
    await post('/record/' + newId + '/edit', [['v.grid', 'z'], ['op', 'save']]),
    await post('/record/' + conflictId + '/resolve', [['field', 'id_number'], ['take', '1']]),
    await post('/sync', []),
  ];
  check(codes.every((c) => c === 403), 'POSTs without a valid CSRF token are refused: ' + codes.join(','));
  check(snapshot() === before2, 'and the repository is unchanged');

  // 10. a village has no aggregate page
  resp = await page.goto(base + '/aggregate', { waitUntil: 'load' });
  check(resp.status() === 404, 'a village node has no /aggregate (404)');

  check(dialogs.length === 0, 'no dialog fired');
  check(external.length === 0, 'nothing was fetched from elsewhere: ' + external.join(' '));
  check(consoleErrors.length === 0, 'no console error (CSP): ' + consoleErrors.join(' | '));
});
