/**
 * Trust: the party identity keys the user pins, against which every key certificate is checked.
 * They come from the party operators out of band (`glacis-party identity` on each party's machine,
 * read by phone or on paper) — this page never offers to pin what the coordinator says, which is
 * exactly what the check must not rest on. A trust file of the `glacis` CLI can be imported.
 * Stored in this browser only (trust-store.ts), never sent.
 */
import { fill, h } from '../dom.js';
import { isConsoleError } from '../errors.js';
import { fingerprint } from '../format.js';
import { fromHex } from '../hex.js';
import { type Page, type PageContext, page } from '../page.js';
import { checkPin, loadPins, loadRetired, parseTrustFile, savePins, saveRetired } from '../trust-store.js';

async function render(ctx: PageContext): Promise<void> {
  const pins = loadPins();
  const retired = loadRetired();
  const ids = Object.keys(pins).sort();
  const prints = await Promise.all(ids.map((id) => fingerprint(ctx.subtle, fromHex(pins[id] as string, id))));
  const rerender = () => void render(ctx);
  const error = h('p', { class: 'alarm', role: 'alert', hidden: true, id: 'trust-error' });
  const fail = (e: unknown) => {
    error.hidden = false;
    error.textContent = isConsoleError(e) ? e.message : String(e);
  };

  const partyInput = h('input', { id: 'pin-party', required: true, spellcheck: 'false', placeholder: 'party-1' });
  const keyInput = h('input', { id: 'pin-key', required: true, spellcheck: 'false', size: 66, placeholder: '64 hex characters' });
  const addForm = h(
    'form',
    { method: 'post', class: 'inline', 'aria-label': 'Pin one party' },
    h('label', { for: 'pin-party' }, 'Party '),
    partyInput,
    h('label', { for: 'pin-key' }, ' Identity key '),
    keyInput,
    h('button', { type: 'submit' }, 'Pin'),
  );
  addForm.addEventListener('submit', (event) => {
    event.preventDefault();
    try {
      savePins({ ...pins, [partyInput.value.trim()]: checkPin(partyInput.value.trim(), keyInput.value) });
      rerender();
    } catch (e) {
      fail(e);
    }
  });

  const fileInput = h('input', { id: 'trust-file', type: 'file', accept: '.json,application/json' });
  const pasted = h('textarea', { id: 'trust-text', rows: 4, cols: 70, spellcheck: 'false', placeholder: '{"parties":{"party-1":"…"}}' });
  const importForm = h(
    'form',
    { method: 'post', 'aria-label': 'Import a trust file' },
    h('p', null, h('label', { for: 'trust-file' }, 'A trust file '), fileInput),
    h('p', null, h('label', { for: 'trust-text' }, 'or its text '), pasted),
    h('button', { type: 'submit' }, 'Import (adds or replaces the parties it names)'),
  );
  importForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const file = fileInput.files?.[0];
    (file === undefined ? Promise.resolve(pasted.value) : file.text())
      .then((text) => {
        const trust = parseTrustFile(text);
        savePins({ ...pins, ...trust.parties });
        saveRetired({ ...retired, ...trust.retired });
        rerender();
      })
      .catch(fail);
  });

  const forgetAll = h('button', { type: 'button', disabled: ids.length === 0 }, 'Forget every pin');
  forgetAll.addEventListener('click', () => {
    savePins({});
    saveRetired({});
    rerender();
  });

  fill(
    ctx.main,
    h('h1', null, 'Trust'),
    h(
      'p',
      null,
      'Key certificates are checked against these identity keys and nothing else. Get each one from the party’s operator out of band: ',
      h('code', null, 'glacis-party identity --data-dir DIR'),
      ' on the party’s own machine prints it; compare the fingerprint by phone or on paper. Never copy it from this coordinator: a compromised coordinator would hand you its own.',
    ),
    error,
    h(
      'table',
      { class: 'list', id: 'pins' },
      h('caption', null, `${ids.length} pinned identities (kept in this browser, never sent)`),
      h('thead', null, h('tr', null, ...['Party', 'Identity key', 'Fingerprint', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        null,
        ids.map((id, i) => {
          const remove = h('button', { type: 'button', class: 'small' }, 'Remove');
          remove.addEventListener('click', () => {
            const { [id]: _gone, ...rest } = pins;
            savePins(rest);
            rerender();
          });
          return h(
            'tr',
            { 'data-party': id },
            h('th', { scope: 'row' }, id),
            h('td', { class: 'hex wrap' }, pins[id] as string),
            h('td', { class: 'hex' }, prints[i] as string),
            h('td', null, remove),
          );
        }),
      ),
    ),
    h('h2', null, 'Pin a party'),
    addForm,
    h('h2', null, 'Import a trust file'),
    h(
      'p',
      null,
      'The format of ',
      h('code', null, 'glacis keys verify --trust'),
      ': ',
      h('code', null, '{"parties": {"party-1": "<64 hex>", …}}'),
      ', with ',
      h('code', null, '"retired": {"party-2": ["<64 hex>", …]}'),
      ' for the keys a party held before its operator re-created it (they check what it signed then, never what it signs now).',
    ),
    importForm,
    h('p', null, forgetAll),
    ids.length === 0 ? null : h('h2', null, 'As a trust file'),
    ids.length === 0
      ? null
      : h(
          'pre',
          { class: 'hex wrap', id: 'trust-json' },
          JSON.stringify(Object.keys(retired).length === 0 ? { parties: pins } : { parties: pins, retired }, null, 2),
        ),
  );
}

export const trustPage: Page = page('trust', 'Trust', render);
