/* Integrations and API keys pages: save allowed origins, create, rotate, revoke,
   delete; a new secret is shown once in a dialog, and the page reloads when it is dismissed. */
(function () {
  "use strict";
  const { api, el } = window.Docent;
  const dialog = document.getElementById("secret-dialog");

  function lines(text) {
    return text.split("\n").map((line) => line.trim()).filter(Boolean);
  }

  /* What each form sends to the API. */
  const bodies = {
    origins: (form) => ({ settings: { allowed_origins: lines(form.elements.allowed_origins.value) } }),
    integration: (form) => {
      const body = { chatbot_id: form.dataset.chatbot, type: form.elements.type.value };
      if (body.type !== "api") body.settings = { allowed_origins: lines(form.elements.allowed_origins.value) };
      return body;
    },
    "api-key": (form) => ({ name: form.elements.name.value.trim(), scope: form.elements.scope.value }),
  };

  /* The error box nearest to `node`: a direct child [data-errors] of it or of an ancestor. */
  function errorBox(node) {
    let scope = node;
    while (scope && !scope.querySelector(":scope > [data-errors]")) scope = scope.parentElement;
    return scope ? scope.querySelector(":scope > [data-errors]") : null;
  }

  /* Every message in an error's details ({"settings": {"allowed_origins": {"0": ["…"]}}}), flattened. */
  function messages(details) {
    if (typeof details === "string") return [details];
    if (!details || typeof details !== "object") return [];
    return Object.values(details).flatMap(messages);
  }

  function showError(node, error) {
    const box = errorBox(node);
    if (!box) { window.alert(error.message); return; }
    const details = messages(error.details);
    box.replaceChildren(el("p", {}, error.message),
      details.length ? el("ul", {}, details.map((message) => el("li", {}, message))) : null);
  }

  function clearError(node) {
    const box = errorBox(node);
    if (box) box.replaceChildren();
  }

  /* A new secret: shown once; dismissing the dialog reloads the page with the updated list. */
  function done(result) {
    if (result && result.key) {
      document.getElementById("secret-value").textContent = result.key;
      dialog.showModal();
    } else {
      window.location.reload();
    }
  }

  async function send(node, method, url, body) {
    clearError(node);
    node.setAttribute("aria-busy", "true");
    try {
      done(await api(method, url, body));
    } catch (error) {
      showError(node, error);
    } finally {
      node.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.copy) return;  /* docent.js copies */
    if (button.hasAttribute("data-close-secret")) { dialog.close(); return; }
    if (!button.dataset.url || button.closest("form")) return;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    send(button, button.dataset.method, button.dataset.url);
  });

  document.querySelectorAll("form[data-form]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send(form, form.dataset.method, form.dataset.url, bodies[form.dataset.form](form));
    });
  });

  /* The real widget, loaded on this page as a customer's site loads it (Docent's own origin is always allowed). */
  document.querySelectorAll("[data-preview-widget]").forEach((button) => {
    button.addEventListener("click", () => {
      const loaded = window.DocentWidget && window.DocentWidget.widgets[button.dataset.chatbot];
      if (loaded) { loaded.open(); return; }
      const script = el("script", { src: button.dataset.previewWidget, "data-key": button.dataset.key, async: true });
      script.addEventListener("load", () => window.DocentWidget.widgets[button.dataset.chatbot].open());
      document.body.append(script);
    });
  });

  /* The add form shows the fields of the chosen type only. */
  const typeSelect = document.getElementById("new-type");
  function showTypeFields() {
    document.querySelectorAll("[data-for-types]").forEach((node) => {
      node.hidden = !node.dataset.forTypes.split(" ").includes(typeSelect.value);
    });
  }
  if (typeSelect) { typeSelect.addEventListener("change", showTypeFields); showTypeFields(); }

  if (dialog) dialog.addEventListener("close", () => {
    document.getElementById("secret-value").textContent = "";
    window.location.reload();
  });
})();
