/* Chatbot form: a live preview of the widget that follows the form, "select all ready" data sources,
   and delete with a confirmation. */
(function () {
  "use strict";
  const { api, el } = window.Docent;
  const form = document.getElementById("chatbot-form");
  const preview = document.getElementById("widget-preview");
  const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
  const COLORS = { theme_primary_color: "--w-primary", theme_primary_text_color: "--w-primary-text",
    theme_background_color: "--w-background", theme_text_color: "--w-text" };

  function value(name) {
    const field = form.elements.namedItem(name);
    return field ? field.value.trim() : "";
  }

  function isHttpsUrl(text) {
    try { return new URL(text).protocol === "https:"; } catch (error) { return false; }
  }

  function updatePreview() {
    Object.entries(COLORS).forEach(([name, property]) => {
      if (HEX_COLOR.test(value(name))) preview.style.setProperty(property, value(name));
    });
    preview.dataset.position = value("theme_position") === "left" ? "left" : "right";
    document.getElementById("preview-title").textContent = value("theme_title") || value("name") || "Your chatbot";

    const avatar = document.getElementById("preview-avatar");
    const avatarUrl = value("theme_avatar_url");
    if (isHttpsUrl(avatarUrl)) {
      if (avatar.getAttribute("src") !== avatarUrl) avatar.src = avatarUrl;
      avatar.hidden = false;
    } else {
      avatar.removeAttribute("src");
      avatar.hidden = true;
    }

    const welcome = document.getElementById("preview-welcome");
    welcome.textContent = value("welcome_message");
    welcome.hidden = !welcome.textContent;

    const questions = Array.from(form.querySelectorAll('input[name="suggested_questions"]'))
      .map((input) => input.value.trim()).filter(Boolean);
    document.getElementById("preview-suggestions")
      .replaceChildren(...questions.map((question) => el("span", { class: "preview-chip" }, question)));
  }

  /* Ticks every ready data source; the company chooses to, nothing is ticked for it. */
  const selectAllReady = document.getElementById("select-all-ready");
  if (selectAllReady) {
    selectAllReady.addEventListener("click", () => {
      form.querySelectorAll('input[name="data_source_ids"][data-ready]').forEach((box) => { box.checked = true; });
    });
  }

  form.addEventListener("input", updatePreview);
  form.addEventListener("change", updatePreview);
  updatePreview();

  const deleteButton = document.getElementById("delete-chatbot");
  if (deleteButton) {
    deleteButton.addEventListener("click", async () => {
      const name = deleteButton.dataset.name;
      if (!window.confirm("Delete the chatbot " + name + "? Its integrations stop working at once and its " +
        "embed snippets with them. Its data sources and past conversations are kept.")) return;
      try {
        await api("DELETE", deleteButton.dataset.url);
        window.location.assign(deleteButton.dataset.next);
      } catch (error) {
        window.alert(error.message);
      }
    });
  }
})();
