// Small behaviours htmx does not cover. No inline handlers: the CSP forbids them.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // ---- Drop zone: dropped files go into the real <input type=file>, listed by name. ----
  function listFiles(input) {
    var zone = input.closest("[data-dropzone]");
    var list = zone && zone.querySelector("[data-file-list]");
    if (!list) return;
    list.replaceChildren();
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement("li");
      item.textContent = file.name;
      var size = document.createElement("span");
      size.className = "muted";
      size.textContent = " · " + formatSize(file.size);
      item.appendChild(size);
      list.appendChild(item);
    });
    zone.classList.toggle("has-files", input.files.length > 0);
  }

  function formatSize(bytes) {
    var units = ["bytes", "KB", "MB", "GB"];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return (i ? bytes.toFixed(1) : bytes) + " " + units[i];
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-dropzone] input[type=file]")) listFiles(event.target);
    // The team switcher submits itself; its button is for browsers without JavaScript.
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });

  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var zone = event.target.closest && event.target.closest("[data-dropzone]");
      if (!zone) return;
      event.preventDefault();
      zone.classList.add("dragging");
    });
  });
  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragging");
    var input = zone.querySelector("input[type=file]");
    // Add to what was already chosen, rather than replace it.
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file) { all.items.add(file); });
    Array.prototype.forEach.call(event.dataTransfer.files, function (file) { all.items.add(file); });
    input.files = all.files;
    listFiles(input);
  });

  // ---- Upload progress of the convert form. ----
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("form");
    var progress = form && form.querySelector("[data-upload-progress] progress");
    if (!progress || !event.detail.lengthComputable) return;
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    progress.value = percent;
    progress.textContent = percent + "%";
  });

  // ---- After a job is created: the files and links were sent, clear them; keep the options. ----
  document.body.addEventListener("jobCreated", function () {
    var form = document.getElementById("convert-form");
    if (!form) return;
    var input = form.querySelector("input[type=file]");
    input.value = "";
    listFiles(input);
    form.querySelector("textarea[name=urls]").value = "";
    form.querySelector("input[name=input_password]").value = "";
    var progress = form.querySelector("[data-upload-progress] progress");
    if (progress) progress.value = 0;
    // On a phone the job list is below the form: bring the new job into view.
    var job = document.querySelector("#job-list .job");
    var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (job) job.scrollIntoView({ block: "nearest", behavior: still ? "auto" : "smooth" });
  });

  // ---- A re-rendered options panel must not lose what the person gave it. The response was
  // made from the values sent, so the focused field gets its current value back. And options a
  // dependency hides (Normalize's targets while it is unticked, the EBU targets while another
  // type is chosen) are kept here: shown again by the options' own check, they come back as
  // they were, not as their defaults; a preset brings its own. Either way, validate again. ----
  var before = null, putAway = {}, recheck = null;
  function optionValues() {
    var values = {};
    document.querySelectorAll("#option-fields [name]:not([type=password])").forEach(function (field) {
      values[field.name] = field.type === "checkbox" ? field.checked : field.value;
    });
    return values;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    before = null;
    if (!event.detail.shouldSwap) return;
    var active = document.activeElement;
    var editable = active && active.id && active.matches("input:not([type=checkbox]):not([type=file]), textarea");
    var options = event.detail.target.id === "option-panel";
    var asker = event.detail.requestConfig && event.detail.requestConfig.elt;
    before = {
      typing: editable && event.detail.target.contains(active) ? { id: active.id, value: active.value } : null,
      values: options ? optionValues() : null,
      checked: options && !!asker && asker.id === "option-fields",
    };
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!before) return;
    var now = before.values ? optionValues() : {}, changed = null;
    Object.keys(before.values || {}).forEach(function (name) {
      if (!(name in now)) putAway[name] = before.values[name];
    });
    Object.keys(now).forEach(function (name) {
      if (name in before.values || !(name in putAway)) return;
      var value = putAway[name];
      delete putAway[name];
      var field = document.getElementById("opt-" + name);
      if (!before.checked || !field) return;
      if (field.type === "checkbox") field.checked = value; else field.value = value;
      changed = field;
    });
    var typed = before.typing && document.getElementById(before.typing.id);
    if (typed && typed.value !== before.typing.value) {
      typed.value = before.typing.value;
      changed = typed;
    }
    before = null;
    recheck = changed;
  });
  // Settled: the new panel's own htmx triggers are listening by then.
  document.addEventListener("htmx:afterSettle", function () {
    var field = recheck;
    recheck = null;
    if (field) field.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // ---- Nothing aborts the Convert submit. The form's requests replace each other (hx-sync), so a
  // validation that starts while the submit is in flight (a field's late change event, the
  // re-check above once a swap has settled) aborted the upload after the server had made its
  // job: no card, and a second click made a second job. Such a validation is dropped: the
  // submit's answer validates every value it sent. (htmx marks an element with htmx-request
  // while its own request is in flight.) ----
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt.closest("#convert-form");
    if (form && form !== event.detail.elt && form.classList.contains("htmx-request")) event.preventDefault();
  });

  // ---- A preserved password input keeps its element, so refresh its invalid state here. ----
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("input[hx-preserve]").forEach(function (input) {
      var invalid = !!document.getElementById(input.id + "-error");
      input.setAttribute("aria-invalid", invalid ? "true" : "false");
      input.closest(".field").classList.toggle("field-invalid", invalid);
    });
  });

  // ---- Announce job status changes once, from one live region (not from each poll). ----
  var announced = {};
  function announceChanges(speak) {
    document.querySelectorAll("[data-announce]").forEach(function (job) {
      var text = job.getAttribute("data-announce");
      if (announced[job.id] !== text) {
        announced[job.id] = text;
        if (speak) document.getElementById("announcer").textContent = text;
      }
    });
  }
  announceChanges(false);
  document.addEventListener("htmx:afterSettle", function () { announceChanges(true); });

  // ---- A refused submit: its message is at the top of the form, likely out of view (the Convert
  // button is at the bottom); bring it into view. It is an alert, so it is read out as well. ----
  document.addEventListener("htmx:afterSettle", function (event) {
    var asker = event.detail.requestConfig && event.detail.requestConfig.elt;
    var message = document.getElementById("input-error");
    if (!asker || asker.id !== "convert-form" || !message || !message.textContent.trim()) return;
    var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    message.scrollIntoView({ block: "center", behavior: still ? "auto" : "smooth" });
  });

  // ---- Irreversible actions (revoking a key, removing a member, leaving a team) ask first. ----
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.matches("form[data-confirm]") && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // ---- A password given on a job card opened it: the card is back with its player, and the
  // file downloads (an attachment: the page stays). ----
  document.body.addEventListener("downloadOutput", function (event) {
    window.location.href = event.detail.url;
  });

  // ---- An output's waveform: a click plays from there, and a line follows what is playing. ----
  // The player's own controls stay the keyboard's way to seek; this is a pointer's shortcut.
  function outputParts(element) {
    var output = element.closest("li.output");
    return output && { audio: output.querySelector("audio"), figure: output.querySelector("figure.waveform") };
  }
  document.addEventListener("click", function (event) {
    var figure = event.target.closest && event.target.closest("figure.waveform");
    var parts = figure && outputParts(figure);
    if (!parts || !parts.audio) return;
    var box = figure.getBoundingClientRect();
    var fraction = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    var audio = parts.audio;
    function playFrom() {
      audio.currentTime = fraction * audio.duration;
      audio.play().catch(function () {});  // a browser may refuse to play: the seek stands
    }
    if (isFinite(audio.duration)) return playFrom();
    // preload="none": nothing is known of the file until its metadata is fetched.
    audio.addEventListener("loadedmetadata", playFrom, { once: true });
    audio.preload = "metadata";
    audio.load();
  });
  // Media events do not bubble: listen while they go down.
  document.addEventListener("timeupdate", function (event) {
    var parts = event.target.matches("li.output audio") && outputParts(event.target);
    var line = parts && parts.figure && parts.figure.querySelector(".waveform-playhead");
    if (!line || !isFinite(event.target.duration)) return;
    var x = (event.target.currentTime / event.target.duration) * Number(line.getAttribute("data-width"));
    line.setAttribute("x1", x);
    line.setAttribute("x2", x);
    line.setAttribute("visibility", "visible");
  }, true);
})();
