/* Data sources page: drag-and-drop upload with per-file progress, websites, live status, delete, reprocess, re-crawl. */
(function () {
  "use strict";
  const { api, el, cookie, websocketUrl } = window.Docent;
  const dropzone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  const uploads = document.getElementById("uploads");
  const table = document.getElementById("files-table");
  const body = document.getElementById("files-body");
  const empty = document.getElementById("files-empty");
  const nextStep = document.getElementById("next-step");
  const POLL_MS = 2000;
  const STATUS_WORDS = { error: "failed" };
  // Upload-list lines of the files uploaded from this page, by data source id: each follows its file's processing.
  const uploadLines = new Map();

  function formatSize(bytes) {
    if (bytes === null || bytes === undefined) return "";
    const units = ["bytes", "KB", "MB", "GB"];
    let value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : value) + " " + units[unit];
  }

  function statusCell(ds) {
    const cell = el("td", { class: "status" }, el("span", { class: "badge " + ds.status }, STATUS_WORDS[ds.status] || ds.status));
    if (ds.status === "processing") {
      cell.append(el("span", { class: "stage" }, ds.stage + " · " + ds.progress + "%"),
        el("progress", { max: "100", value: String(ds.progress) }));
    }
    if (ds.status === "error") cell.append(el("p", { class: "error reason" }, ds.error_message));
    return cell;
  }

  function row(ds) {
    return el("tr", { "data-id": ds.id, "data-status": ds.status },
      el("td", { class: "name" }, ds.name), el("td", {}, ds.type),
      el("td", {}, ds.type === "website" ? "" : formatSize(ds.size)),
      statusCell(ds), el("td", { class: "chunks" }, ds.chunk_count),
      el("td", { class: "actions" }, ds.type === "website"
        ? el("button", { type: "button", "data-action": "recrawl" }, "Re-crawl")
        : el("button", { type: "button", "data-action": "reprocess" }, "Reprocess"),
      el("button", { type: "button", class: "danger", "data-action": "delete" }, "Delete")));
  }

  function followUpload(ds) {
    const line = uploadLines.get(ds.id);
    if (!line) return;
    line.item.classList.toggle("failed", ds.status === "error");
    if (ds.status === "error") line.note.textContent = "failed: " + ds.error_message;
    else if (ds.status === "ready") line.note.textContent = "ready";
    else line.note.textContent = "uploaded · " + ds.stage + " · " + ds.progress + "%";
  }

  function show(ds) {
    followUpload(ds);
    const existing = body.querySelector('tr[data-id="' + ds.id + '"]');
    if (existing) {
      existing.dataset.status = ds.status;
      existing.querySelector("td.status").replaceWith(statusCell(ds));
      if (ds.chunk_count !== undefined) existing.querySelector("td.chunks").textContent = ds.chunk_count;
    } else {
      body.prepend(row(ds));
    }
    table.hidden = false;
    empty.hidden = true;
    if (ds.status === "ready") nextStep.hidden = false;
    schedulePoll();
  }

  function upload(file) {
    const bar = el("progress", { max: "100", value: "0" });
    const note = el("span", { class: "muted" }, "uploading…");
    const item = el("li", {}, el("span", { class: "name" }, file.name), bar, note);
    uploads.append(item);
    const form = new FormData();
    form.append("files", file);
    const request = new XMLHttpRequest();
    request.open("POST", "/api/upload");
    request.setRequestHeader("X-CSRFToken", cookie("csrftoken"));
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (event) => { if (event.lengthComputable) bar.value = (100 * event.loaded) / event.total; };
    request.onload = () => {
      let data = null;
      try { data = JSON.parse(request.responseText); } catch (error) { data = null; }
      if (request.status >= 200 && request.status < 300 && data) {
        bar.value = 100;
        note.textContent = data.duplicates.length ? "already uploaded: the existing file is shown" : "uploaded";
        if (!data.duplicates.length) data.data_sources.forEach((ds) => uploadLines.set(ds.id, { item, note }));
        data.data_sources.forEach(show);
      } else {
        item.classList.add("failed");
        note.textContent = data && data.error ? data.error.message : "Upload failed (" + request.status + ").";
      }
    };
    request.onerror = () => { item.classList.add("failed"); note.textContent = "Upload failed: the connection dropped."; };
    request.send(form);
  }

  const websiteForm = document.getElementById("website-form");
  const websiteError = document.getElementById("website-error");
  websiteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    websiteError.hidden = true;
    const fields = new FormData(websiteForm);
    try {
      show(await api("POST", "/api/websites", { url: fields.get("url"), crawl: fields.get("crawl") === "true" }));
      websiteForm.reset();
    } catch (error) {
      websiteError.textContent = error.message;
      websiteError.hidden = false;
    }
  });

  function uploadAll(files) { Array.from(files).forEach(upload); }

  dropzone.addEventListener("dragover", (event) => { event.preventDefault(); dropzone.classList.add("over"); });
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("over");
    uploadAll(event.dataTransfer.files);
  });
  dropzone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  input.addEventListener("change", () => { uploadAll(input.files); input.value = ""; });

  body.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const tr = button.closest("tr");
    const name = tr.querySelector(".name").textContent;
    try {
      if (button.dataset.action === "delete") {
        if (!window.confirm("Delete " + name + "? Its file, passages and vectors are removed for good.")) return;
        await api("DELETE", "/api/files/" + tr.dataset.id);
        tr.remove();
        if (!body.children.length) { table.hidden = true; empty.hidden = false; }
      } else if (button.dataset.action === "recrawl") {
        show(await api("POST", "/api/files/" + tr.dataset.id + "/recrawl"));
        button.textContent = "Re-crawl queued";
      } else {
        show(await api("POST", "/api/process-file", { data_source_id: tr.dataset.id }));
      }
    } catch (error) {
      window.alert(error.message);
    }
  });

  /* Live updates: pushed over WebSocket when the channel layer carries them (Redis), and
     polled while anything is processing, so the page updates without a reload either way. */
  let pollTimer = null;
  function schedulePoll() {
    if (pollTimer || !body.querySelector('tr[data-status="processing"]')) return;
    pollTimer = setTimeout(async () => {
      pollTimer = null;
      const ids = Array.from(body.querySelectorAll('tr[data-status="processing"]')).map((tr) => tr.dataset.id);
      for (const id of ids) {
        try { show(await api("GET", "/api/files/" + id)); } catch (error) { /* shown on the next poll */ }
      }
      schedulePoll();
    }, POLL_MS);
  }

  function listen() {
    const socket = new WebSocket(websocketUrl("/ws/datasources/"));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "status" && body.querySelector('tr[data-id="' + message.data_source.id + '"]')) {
        show(message.data_source);
      }
    };
    socket.onclose = () => setTimeout(listen, 5000);
  }

  listen();
  schedulePoll();
})();
