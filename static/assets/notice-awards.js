// The behaviour awards on the public points notice: a logged-in volunteer
// of the community may object to one in its notice period, with a reason;
// the award is then held for the organiser. Anyone else is told how (log
// in, or call the contact). The page works without this script.

const messages = JSON.parse(document.getElementById('award-messages')?.textContent || '{}');
const t = (key, ...args) => {
  let i = 0;
  return (messages[key] ?? key).replace(/%v/g, () => String(args[i++]));
};
const lang = document.documentElement.lang || 'zh-CN';
const form = document.getElementById('na-form');
const msg = document.getElementById('na-msg');
let current = null;

for (const b of document.querySelectorAll('.award-object')) {
  b.addEventListener('click', () => {
    current = b;
    document.getElementById('na-what').textContent = t('js.award.notice.objecting', b.dataset.what);
    form.hidden = false;
    msg.textContent = '';
    msg.className = 'msg';
    form.reason.focus();
  });
}

document.getElementById('na-cancel')?.addEventListener('click', () => {
  form.hidden = true;
  current?.focus();
});

form?.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const reason = form.reason.value.trim();
  msg.className = 'msg';
  if (!reason) {
    msg.textContent = t('js.award.notice.reason_missing');
    return;
  }
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((x) => (x.disabled = true));
  try {
    const url = new URL(`/api/v1/awards/${current.dataset.awardId}/object`, location.origin);
    url.searchParams.set('lang', lang);
    const res = await fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason }),
    });
    const data = await res.json().catch(() => null);
    if (res.status === 401) {
      const q = new URLSearchParams({ next: location.pathname + location.search, lang });
      msg.textContent = '';
      msg.append(t('js.award.notice.login_first'), ' ');
      const a = document.createElement('a');
      a.href = '/?' + q;
      a.textContent = t('js.award.notice.login');
      msg.append(a);
      return;
    }
    if (!res.ok) {
      msg.textContent = data?.error?.message ?? t('js.award.notice.failed');
      return;
    }
    msg.className = 'msg ok';
    msg.textContent = t('js.award.notice.held');
    form.reset();
    form.hidden = true;
    current.closest('tr')?.classList.add('objected');
    current.disabled = true;
  } catch {
    msg.textContent = t('js.award.notice.failed');
  } finally {
    buttons.forEach((x) => (x.disabled = false));
  }
});
