/**
 * Logging in: the token is checked with one read any role may make (`GET /v1/keys?limit=1`) and
 * then kept in memory, or in this tab's sessionStorage if the user asks.
 */
import { createApi } from '../api.js';
import { keyDecoder, pageDecoder } from '../api-types.js';
import { fill, h } from '../dom.js';
import { isConsoleError } from '../errors.js';
import { startSession } from '../session.js';

/** Renders the login form into `main`; `done` runs once a token is accepted. */
export function renderLogin(main: HTMLElement, done: () => void, notice?: string): void {
  const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const remember = h('input', { id: 'remember', type: 'checkbox' });
  const error = h('p', { id: 'login-error', class: 'alarm', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h(
    'form',
    { method: 'post', class: 'login', 'aria-describedby': 'login-help' },
    h('label', { for: 'token' }, 'API token'),
    token,
    h(
      'p',
      { class: 'check' },
      remember,
      h('label', { for: 'remember' }, ' Stay logged in in this tab (sessionStorage: gone when the tab closes)'),
    ),
    submit,
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = token.value.trim();
    if (value === '') return;
    submit.disabled = true;
    error.hidden = true;
    createApi(value)
      .get('/v1/keys?limit=1', pageDecoder('keys', keyDecoder))
      .then(() => {
        startSession(value, remember.checked);
        token.value = '';
        done();
      })
      .catch((e: unknown) => {
        error.hidden = false;
        error.textContent =
          isConsoleError(e, 'http') && e.status === 401
            ? 'The coordinator does not know this token.'
            : `Could not log in: ${e instanceof Error ? e.message : String(e)}`;
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  fill(
    main,
    h('h1', null, 'Log in'),
    notice === undefined ? null : h('p', { class: 'notice', role: 'status' }, notice),
    h(
      'p',
      { id: 'login-help' },
      'Paste an API token (operators make them with ',
      h('code', null, 'glacis-coordinator token create'),
      '). The console sends it only to this coordinator, as ',
      h('code', null, 'Authorization: Bearer'),
      ', and keeps it in this tab’s memory — never in a cookie, localStorage or the address bar.',
    ),
    form,
  );
  token.focus();
}
