// /m/card: the member card. The QR image is in the page; this only says so
// when it cannot be loaded (for instance after the session ended).

import { t, $ } from './common.js';

const img = $('qr');
img?.addEventListener('error', () => {
  img.hidden = true;
  $('qr-msg').textContent = t('js.m.card_failed');
});
if (img && img.complete && img.naturalWidth === 0) {
  img.hidden = true;
  $('qr-msg').textContent = t('js.m.card_failed');
}
