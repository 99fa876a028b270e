// The start page: sign in, show who is signed in, sign out, and for
// administrators verify the ledger. Messages come from the catalogue the
// server rendered into #messages, in the page's language.

const messages = JSON.parse(document.getElementById('messages').textContent);
const lang = document.documentElement.lang;

// t returns the message for key with each %v replaced by the next argument.
function t(key, ...args) {
  let i = 0;
  return (messages[key] ?? key).replace(/%v/g, () => String(args[i++]));
}

const $ = (id) => document.getElementById(id);

// api calls the JSON API in the page's language and returns the decoded
// answer; it throws an Error with a message fit to show when the call fails.
async function api(method, path, body) {
  const url = new URL(path, location.origin);
  url.searchParams.set('lang', lang);
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch {
    throw new Error(t('js.network_error'));
  }
  const type = res.headers.get('Content-Type') ?? '';
  const data = type.includes('application/json') ? await res.json() : null;
  if (!res.ok) {
    const err = new Error(data?.error?.message ?? t('js.network_error'));
    err.status = res.status;
    throw err;
  }
  return data;
}

function showLogin(message = '') {
  $('home').hidden = true;
  $('admin').hidden = true;
  $('login').hidden = false;
  $('login-msg').textContent = message;
  $('login-name').focus();
}

function showHome(user) {
  $('login').hidden = true;
  $('home').hidden = false;
  $('welcome').textContent = t('js.welcome', user.name || user.login);
  $('identity').textContent = t('js.signed_in_as', t('role.' + user.role), user.login);
  $('home-msg').textContent = '';
  $('admin').hidden = user.role !== 'admin';
  $('verify-result').replaceChildren();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const button = form.querySelector('button');
  button.disabled = true;
  $('login-msg').textContent = t('js.logging_in');
  try {
    const user = await api('POST', '/api/v1/login', {
      login: form.login.value.trim(),
      password: form.password.value,
    });
    form.reset();
    showHome(user);
  } catch (err) {
    $('login-msg').textContent = err.message;
  } finally {
    button.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/v1/logout');
    showLogin();
  } catch (err) {
    if (err.status === 401) showLogin();
    else $('home-msg').textContent = err.message;
  }
});

$('verify').addEventListener('click', async (ev) => {
  const button = ev.currentTarget;
  const out = $('verify-result');
  button.disabled = true;
  out.textContent = t('js.verifying');
  try {
    const r = await api('GET', '/api/v1/ledger/verify');
    const line = document.createElement('p');
    line.className = r.ok ? 'ok' : 'bad';
    line.textContent = r.ok
      ? t('js.verify_ok', r.entries, r.accounts, r.head_seq)
      : t('js.verify_bad', r.first_bad_seq, r.problem);
    const hash = document.createElement('code');
    hash.textContent = t('js.head_hash', r.head_hash);
    out.replaceChildren(line, hash);
  } catch (err) {
    out.textContent = err.message;
  } finally {
    button.disabled = false;
  }
});

api('GET', '/api/v1/me').then(showHome, (err) => showLogin(err.status === 401 ? '' : err.message));
