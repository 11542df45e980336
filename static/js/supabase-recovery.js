/* Supabase password recovery page: the emailed link opens a session whose tokens arrive in the URL
   fragment (#access_token=…&refresh_token=…&type=recovery), which the server never sees. Move them
   into the form, and take them out of the address bar and history. */
(function () {
  "use strict";
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const accessToken = document.getElementById("id_access_token");
  const refreshToken = document.getElementById("id_refresh_token");
  if (window.location.hash) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  if (fragment.get("access_token") && !fragment.get("error")) {
    accessToken.value = fragment.get("access_token");
    refreshToken.value = fragment.get("refresh_token") || "";
    return;
  }
  // An expired or used link comes back as #error=access_denied&error_code=otp_expired&…; its
  // description is not shown, since anyone can write one into a link to this page.
  if (fragment.get("error") || !accessToken.value) {
    document.getElementById("recovery-form").hidden = true;
    document.getElementById("recovery-link-error").hidden = false;
  }
})();
