// csc-validator's local web app: drop zones, the progress poll, the rules search. No network beyond this app.
"use strict";

// As validator/outputs/words.size_label: bytes below 1 KB, never "0 KB".
function sizeLabel(bytes) {
  if (bytes < 1024) return `${bytes.toLocaleString("en-GB")} byte${bytes === 1 ? "" : "s"}`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024).toLocaleString("en-GB")} KB`;
  return `${(bytes / (1024 * 1024)).toLocaleString("en-GB", { maximumFractionDigits: 1 })} MB`;
}

function listChosen(input) {
  const list = input.parentElement.querySelector(".chosen");
  if (!list) return;
  list.replaceChildren();
  for (const file of input.files) {
    const li = document.createElement("li");
    li.textContent = `${file.name} (${sizeLabel(file.size)})`;
    list.append(li);
  }
}

function setUpDropZones() {
  for (const zone of document.querySelectorAll(".drop")) {
    const input = zone.querySelector("input[type=file]");
    input.addEventListener("change", () => listChosen(input));
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        listChosen(input);
      }
    });
  }
  const form = document.getElementById("upload");
  if (form) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      button.textContent = "Uploading…";
    });
  }
}

function pollProgress() {
  const box = document.getElementById("progress");
  if (!box) return;
  const stage = document.getElementById("stage");
  const bar = document.getElementById("bar");
  const tick = async () => {
    let status;
    try {
      const response = await fetch("/status", { cache: "no-store" });
      status = await response.json();
    } catch (err) {
      stage.textContent = "Waiting for the app…";
      setTimeout(tick, 1000);
      return;
    }
    box.dataset.state = status.state;
    if (status.state !== "running") {
      location.replace("/result");
      return;
    }
    stage.textContent = status.label;
    if (status.total) {
      bar.max = status.total;
      bar.value = status.done;
    } else {
      bar.removeAttribute("value");
    }
    setTimeout(tick, 400);
  };
  tick();
}

function setUpRulesSearch() {
  const q = document.getElementById("q");
  const table = document.getElementById("rules-table");
  if (!q || !table) return;
  const count = document.getElementById("rules-count");
  const rows = Array.from(table.tBodies[0].rows);
  const texts = rows.map((r) => r.textContent.toLowerCase());
  const filter = () => {
    const needle = q.value.trim().toLowerCase();
    let shown = 0;
    rows.forEach((row, i) => {
      const hit = !needle || texts[i].includes(needle);
      row.hidden = !hit;
      shown += hit ? 1 : 0;
    });
    count.textContent = `${shown.toLocaleString("en-GB")} of ${rows.length.toLocaleString("en-GB")} rules`;
  };
  q.addEventListener("input", filter);
  for (const select of document.querySelectorAll("#rules-form select")) {
    select.addEventListener("change", () => select.form.submit());
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setUpDropZones();
  pollProgress();
  setUpRulesSearch();
});
