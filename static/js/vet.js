// The vetting page: keyboard labelling, saving through the API, re-folding the views in the browser.
// User text only ever goes into the page through textContent, never innerHTML.
(function () {
  "use strict";
  const root = document.getElementById("vet");
  if (!root) return;
  const config = JSON.parse(document.getElementById("vet-config").textContent);
  const $ = (id) => document.getElementById(id);
  const form = $("label-form");
  const status = $("form-status");
  const dialog = $("shortcuts");
  const TYPING_INPUTS = new Set(["text", "number", "search", "email", "url", "password", "tel", "date", "time", "datetime-local"]);

  // ---- helpers ---------------------------------------------------------------------------
  function typingIn(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && TYPING_INPUTS.has((el.type || "text").toLowerCase());
  }
  function say(text, kind) {
    if (!status) return;
    status.textContent = text;
    status.className = kind || "";
  }
  function nextUrl() {
    return config.queue ? `${config.nextUrl}?queue=${encodeURIComponent(config.queue)}` : config.nextUrl;
  }
  function csrfToken() {
    const input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function bokehModel(name) {
    const docs = (window.Bokeh && window.Bokeh.documents) || [];
    for (const doc of docs) {
      const model = doc.get_model_by_name(name);
      if (model) return model;
    }
    return null;
  }

  // ---- re-fold ---------------------------------------------------------------------------
  const inputs = { period: $("refold-period"), epoch: $("refold-epoch"), duration: $("refold-duration") };
  const proposeRow = $("propose-row");
  const propose = $("propose");
  const stored = new Map(); // the views as processed, to restore on reset

  function refoldValues() {
    if (!inputs.period) return null;
    const period = Number(inputs.period.value), epoch = Number(inputs.epoch.value), duration = Number(inputs.duration.value);
    const ok = period > 0 && duration > 0 && duration / 24 < period && Number.isFinite(epoch) && inputs.epoch.value !== "";
    inputs.period.setAttribute("aria-invalid", String(!(period > 0)));
    inputs.duration.setAttribute("aria-invalid", String(!(duration > 0 && duration / 24 < period)));
    inputs.epoch.setAttribute("aria-invalid", String(!Number.isFinite(epoch) || inputs.epoch.value === ""));
    return ok ? { period, epoch, duration } : null;
  }
  function changedFromCatalogue(values) {
    const c = config.catalogue;
    return values && (values.period !== c.period || values.epoch !== c.epoch || values.duration !== c.duration);
  }
  function remember() {
    for (const name of ["view-global-source", "view-local-source"]) {
      const source = bokehModel(name);
      if (source && !stored.has(name)) stored.set(name, { x: Array.from(source.data.x), y: Array.from(source.data.y) });
    }
  }
  function refold() {
    const values = refoldValues();
    const note = $("refold-note");
    if (!values) {
      if (note) note.textContent = "needs P > 0 and 0 < duration < P";
      return;
    }
    const params = bokehModel("refold-params");
    if (!params) return;
    remember();
    params.data = { period: [values.period], epoch: [values.epoch], duration: [values.duration] };
    const changed = changedFromCatalogue(values);
    if (note) note.textContent = changed ? "re-folded (not saved)" : "re-folds live";
    if (proposeRow) {
      proposeRow.hidden = !changed;
      propose.checked = Boolean(changed);
    }
  }
  function resetRefold() {
    const c = config.catalogue;
    inputs.period.value = String(c.period);
    inputs.epoch.value = String(c.epoch);
    inputs.duration.value = String(c.duration);
    refoldValues();
    for (const [name, data] of stored) {
      const source = bokehModel(name);
      if (source) source.data = { x: data.x.slice(), y: data.y.slice() };
    }
    if (proposeRow) {
      proposeRow.hidden = true;
      propose.checked = false;
    }
    const note = $("refold-note");
    if (note) note.textContent = "re-folds live";
  }
  if (inputs.period) {
    let timer = null;
    for (const input of Object.values(inputs)) {
      input.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(refold, 150);
      });
    }
    $("refold-reset").addEventListener("click", resetRefold);
    $("refold").addEventListener("submit", (event) => event.preventDefault()); // Enter there saves the label
  }

  // ---- labelling -------------------------------------------------------------------------
  function chooseLabel(index) {
    if (!form) return;
    const radios = form.querySelectorAll("input[name=label]");
    if (!radios[index]) return;
    radios[index].checked = true;
    radios[index].focus();
    say(`${radios[index].value} chosen: Enter saves.`);
  }
  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function showSaved(saved, body) {
    const mine = $("my-label");
    if (mine) {
      mine.textContent = `${body.label} (${body.confidence})`;
      mine.title = "just now";
      mine.className = `badge ${body.label}`;
    }
    const tbody = document.querySelector("#label-history tbody");
    if (tbody) {
      const empty = tbody.querySelector("tr.empty");
      if (empty) empty.remove();
      const row = document.createElement("tr");
      cell(row, "just now");
      cell(row, saved.user || "you");
      cell(row, body.label);
      cell(row, body.confidence);
      cell(row, body.flags.join(", "));
      cell(row, body.comment).className = "note-text";
      cell(row, body.period !== undefined ? `P ${body.period} d, T0 ${body.epoch}, ${body.duration} h` : "");
      cell(row, config.viewsVersion ? `${config.preset} v${config.viewsVersion}` : "");
      tbody.prepend(row);
    }
    say(`Saved: ${body.label}.`, "ok");
  }
  let saving = false;
  async function save() {
    if (!form || saving) return;
    const chosen = form.querySelector("input[name=label]:checked");
    if (!chosen) {
      say(`Choose a disposition first (keys 1–${config.keys.length}).`, "error");
      return;
    }
    const confidence = form.querySelector("input[name=confidence]:checked");
    const body = {
      label: chosen.value,
      confidence: confidence ? confidence.value : "medium",
      comment: form.elements.comment.value,
      flags: Array.from(form.querySelectorAll("input[name=flags]:checked"), (box) => box.value),
      views_version: config.viewsVersion,
      views_preset: config.preset || "",
    };
    if (propose && propose.checked) {
      const values = refoldValues();
      if (values) Object.assign(body, values);
    }
    saving = true;
    say("Saving…");
    try {
      const response = await fetch(config.labelsUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      });
      if (response.status !== 201) {
        let detail = `HTTP ${response.status}`;
        try {
          const answer = await response.json();
          if (answer.detail) detail = typeof answer.detail === "string" ? answer.detail : JSON.stringify(answer.detail);
        } catch (err) { /* not JSON */ }
        say(`Not saved: ${detail}`, "error");
        return;
      }
      const saved = await response.json();
      if (config.queue) {
        say("Saved. Opening the next TCE…", "ok");
        window.location.assign(nextUrl());
        return;
      }
      showSaved(saved, body);
    } catch (err) {
      say(`Not saved: ${err}`, "error");
    } finally {
      saving = false;
    }
  }
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save();
    });
    $("skip").addEventListener("click", () => window.location.assign(nextUrl()));
  }

  // ---- shortcuts -------------------------------------------------------------------------
  function showShortcuts() {
    if (dialog && !dialog.open) dialog.showModal();
  }
  const shortcutsButton = $("show-shortcuts");
  if (shortcutsButton) shortcutsButton.addEventListener("click", showShortcuts);

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const el = event.composedPath ? event.composedPath()[0] : event.target;
    if (dialog && dialog.open) {
      if (event.key === "?") {
        event.preventDefault();
        dialog.close();
      }
      return; // Esc closes the dialog natively; nothing else acts behind it
    }
    if (event.key === "Enter") {
      if (el && el.tagName === "TEXTAREA") {
        if (event.ctrlKey || event.metaKey) {
          event.preventDefault();
          save();
        }
        return; // a plain Enter is a new line in the note
      }
      const tag = el && el.tagName;
      if (tag === "A" || tag === "SELECT" || tag === "SUMMARY" || (tag === "BUTTON" && el.id !== "save")) return;
      if (el && el.getRootNode && el.getRootNode() !== document) return; // inside a Bokeh widget or toolbar
      event.preventDefault();
      if (form) save();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typingIn(el)) return;
    if (/^[1-9]$/.test(event.key)) {
      const index = Number(event.key) - 1;
      if (form && index < config.keys.length) {
        event.preventDefault();
        chooseLabel(index);
      }
      return;
    }
    switch (event.key) {
      case "s":
        if (!form) break; // only those who may label take TCEs from a queue
        event.preventDefault();
        window.location.assign(nextUrl());
        break;
      case "b":
        event.preventDefault();
        window.history.back();
        break;
      case "?":
        event.preventDefault();
        showShortcuts();
        break;
      default:
        break;
    }
  });
})();
