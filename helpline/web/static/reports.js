/* Helpline console: the Reports page. Its figures and charts come rendered from the server; this only starts
   the shared header (who is signed in, navigation, safeguarding alerts). */
"use strict";

(function () {
  window.Helpline.page.start(function () {});
})();
