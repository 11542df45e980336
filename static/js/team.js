/* Team page: a destructive form (remove a member, revoke an invitation, hand over ownership)
   asks first; everything else is a plain form that works without JavaScript. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
