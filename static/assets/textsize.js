// The large-text switch of the phone pages and the kiosk (适老化): 标准,
// 大 and 特大 (100 %, 150 %, 200 %), remembered per browser. This file is
// loaded as a plain script in the page's head, before anything is drawn, so
// that a page opens at its size at once instead of jumping; the buttons
// (data-text-size) are wired once the page is there. Every size is the
// root font size: the styles are in rem.
(() => {
  const key = 'aixin.text-size';
  const sizes = ['100', '150', '200'];
  const root = document.documentElement;
  let size = '100';
  try {
    size = sizes.includes(localStorage.getItem(key)) ? localStorage.getItem(key) : '100';
  } catch {
    // Storage refused (a private window): the standard size.
  }
  root.dataset.textSize = size;

  function show() {
    for (const b of document.querySelectorAll('[data-text-size]')) {
      b.setAttribute('aria-pressed', String(b.dataset.textSize === root.dataset.textSize));
    }
  }
  document.addEventListener('click', (ev) => {
    const b = ev.target.closest?.('button[data-text-size]');
    if (!b || !sizes.includes(b.dataset.textSize)) return;
    root.dataset.textSize = b.dataset.textSize;
    try {
      localStorage.setItem(key, b.dataset.textSize);
    } catch {
      // Not remembered, but applied.
    }
    show();
  });
  document.addEventListener('DOMContentLoaded', show);
})();
