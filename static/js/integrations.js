/* Integrations, API keys and webhooks pages: save allowed origins, create, rotate, revoke,
   delete, switch on and off, send again; a new secret is shown once in a dialog, and the page
   reloads when it is dismissed. A button's JSON body, if any, is its data-body. */
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
    webhook: (form) => ({
      url: form.elements.url.value.trim(),
      description: form.elements.description.value.trim(),
      events: Array.from(form.querySelectorAll("input[name=events]:checked"), (box) => box.value),
    }),
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

  /* A new secret: shown once; dismissing the dialog reloads the page with the updated list.
     Otherwise the page reloads, or goes to the node's data-then (after deleting what it shows). */
  function done(result, then) {
    const secret = result && (result.key || result.secret);
    if (secret) {
      document.getElementById("secret-value").textContent = secret;
      dialog.showModal();
    } else if (then) {
      window.location.assign(then);
    } else {
      window.location.reload();
    }
  }

  async function send(node, method, url, body) {
    clearError(node);
    node.setAttribute("aria-busy", "true");
    try {
      done(await api(method, url, body), node.dataset.then);
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
    send(button, button.dataset.method, button.dataset.url, button.dataset.body && JSON.parse(button.dataset.body));
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
