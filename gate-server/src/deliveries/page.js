// The recent-deliveries page: reads /deliveries with the admin token the
// operator types (kept for this tab only). Every value comes from strangers'
// requests, so it is only ever set as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const tokenKey = "gate-deliveries-token";

async function get(path) {
  const token = sessionStorage.getItem(tokenKey) || "";
  const answer = await fetch(path, { headers: { Authorization: "Bearer " + token } });
  if (!answer.ok) {
    const problem = await answer.json().catch(() => ({}));
    throw new Error((problem.error && problem.error.message) || "HTTP " + answer.status);
  }
  return answer.json();
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
}

function statusClass(status) {
  return status < 300 ? "ok" : status < 500 ? "warn" : "bad";
}

async function showList() {
  $("error").textContent = "";
  try {
    const { deliveries } = await get("/deliveries");
    const rows = $("rows");
    rows.replaceChildren();
    for (const d of deliveries) {
      const row = document.createElement("tr");
      row.dataset.id = d.id;
      cell(row, new Date(d.received_at).toISOString());
      cell(row, d.source);
      cell(row, d.door);
      cell(row, d.event);
      cell(row, d.delivery);
      cell(row, d.status, statusClass(d.status));
      cell(row, d.duration_ms.toFixed(1));
      row.addEventListener("click", () => showDetail(d.id));
      rows.appendChild(row);
    }
    $("detail").hidden = true;
    $("list").hidden = false;
  } catch (e) {
    $("error").textContent = e.message;
  }
}

async function showDetail(id) {
  $("error").textContent = "";
  try {
    const d = await get("/deliveries/" + encodeURIComponent(id));
    $("detail-title").textContent = d.source + "/" + d.door + " · " + d.status;
    const facts = $("detail-facts");
    facts.replaceChildren();
    for (const [name, value] of [
      ["request id", d.id],
      ["received", new Date(d.received_at).toISOString()],
      ["client", d.peer],
      ["query", d.query],
      ["duration (ms)", d.duration_ms.toFixed(1)],
    ]) {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = value === null || value === undefined ? "" : String(value);
      facts.append(dt, dd);
    }
    $("detail-headers").textContent = d.headers.map(([n, v]) => n + ": " + v).join("\n");
    $("detail-answer").textContent = JSON.stringify(d.answer, null, 2);
    $("detail-body").textContent =
      d.body === undefined ? "(bodies are not kept: [deliveries] bodies = true)"
        : d.body + (d.body_truncated ? "\n… (cut)" : "");
    $("list").hidden = true;
    $("detail").hidden = false;
  } catch (e) {
    $("error").textContent = e.message;
  }
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(tokenKey, $("token").value);
  showList();
});
$("refresh").addEventListener("click", showList);
$("back").addEventListener("click", showList);
// A link may carry the token and a delivery in its fragment (never sent to
// the server): #token=...&id=... ; the fragment is cleared once read.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.has("token")) {
  sessionStorage.setItem(tokenKey, fragment.get("token"));
  history.replaceState(null, "", location.pathname);
}
if (fragment.has("id")) showDetail(fragment.get("id"));
else if (sessionStorage.getItem(tokenKey)) showList();
