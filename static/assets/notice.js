// /notice/{community}: the public points notice. The only control it needs
// is the print button (the notice goes on the community's board); the page
// works without this script.
import './notice-awards.js'; // the awards on the notice (文明行为积分公示)
const button = document.getElementById('notice-print');
if (button) {
  button.hidden = false;
  button.addEventListener('click', () => window.print());
}
