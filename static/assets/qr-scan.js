// A QR reader on the device's camera: the browser's BarcodeDetector where
// it has one (Android Chrome with Google Play services), else the vendored
// jsQR decoder, loaded only when it is needed. Nothing comes from another
// origin, and nothing needs WebAssembly.

let jsQR = null;

// detector returns a function that reads the QR codes in a video frame, or
// throws if there is no way to read them.
async function detector() {
  if ('BarcodeDetector' in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        const d = new window.BarcodeDetector({ formats: ['qr_code'] });
        return async (video) => (await d.detect(video)).map((b) => b.rawValue);
      }
    } catch {
      // Fall back to jsQR.
    }
  }
  jsQR ??= (await import('./vendor/jsqr.js')).default;
  const canvas = document.createElement('canvas');
  const g = canvas.getContext('2d', { willReadFrequently: true });
  return async (video) => {
    const w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) return [];
    // Large frames cost time and add nothing to a card held up close.
    const scale = Math.min(1, 800 / Math.max(w, h));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    g.drawImage(video, 0, 0, canvas.width, canvas.height);
    const img = g.getImageData(0, 0, canvas.width, canvas.height);
    const code = jsQR(img.data, img.width, img.height, { inversionAttempts: 'attemptBoth' });
    return code?.data ? [code.data] : [];
  };
}

// startScanner shows the back camera in video and, about five times a
// second, calls onFrame with the texts of the codes it reads in a frame
// (none, most of the time): onFrame decides what to do with a code it has
// just seen. It returns a function that stops the camera. It throws when
// there is no camera or the user refuses it.
export async function startScanner(video, onFrame) {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('no camera');
  const read = await detector();
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: false,
  });
  video.srcObject = stream;
  await video.play();
  let stopped = false;
  let timer = 0;
  const tick = async () => {
    if (stopped) return;
    try {
      if (video.readyState >= 2) await onFrame(await read(video));
    } catch {
      // A frame that cannot be read: try the next one.
    }
    if (!stopped) timer = setTimeout(tick, 200);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
}
