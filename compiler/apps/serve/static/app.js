// The playground page: on every edit (debounced), the figures from the JSON API.
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (id) => document.getElementById(id);
  let editor, timer = null, generation = 0;

  async function api(name, body) {
    const r = await fetch("api/" + name, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Segc-Token": token}, body: JSON.stringify(body)});
    const data = await r.json();
    return {ok: r.ok, data};
  }

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const pct = (x) => x == null ? "–" : (100 * x).toFixed(1) + "%";
  const num = (x) => x == null ? "–" : (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
  const bar = (x, cls) => `<span class="bar ${cls || ""}" style="width:${Math.round(120 * Math.max(0, Math.min(1, x || 0)))}px"></span>`;

  function body(extra) {
    const b = {expression: editor.text(), ...extra};
    const asOf = $("as-of").value.trim();
    if (asOf) b.as_of = asOf;
    return b;
  }

  function showDiagnostics(diags) {
    editor.showDiagnostics(diags);
    $("diagnostics").innerHTML = diags.map((d) =>
      `<div class="diag ${d.severity === "error" ? "" : "warn"}">${esc(d.code)} ${d.line ? `${d.line}:${d.col} ` : ""}${esc(d.message)}</div>`).join("");
  }

  async function refresh() {
    const mine = ++generation;
    if (!editor.text().trim()) { showDiagnostics([]); return; }
    const check = await api("check", body({}));
    if (mine !== generation) return;
    showDiagnostics(check.data.diagnostics || []);
    if (!check.ok) { $("count").textContent = "–"; $("share").textContent = "–"; return; }
    $("via").textContent = "computing…";
    const count = await api("count", body({}));
    if (mine !== generation) return;
    if (count.ok) {
      const s = count.data.segments[0];
      $("count").textContent = s.count.toLocaleString("en-US");
      $("count").dataset.value = String(s.count);
      $("share").textContent = pct(s.share);
      $("population").textContent = count.data.population.toLocaleString("en-US");
      $("via").textContent = count.data.via === "matrix" ? "" : "full query";
    }
    // each panel as soon as its own answer arrives (not after the slowest of the four)
    const show = (promise, render) => promise.then((r) => { if (mine === generation && r.ok) render(r.data); });
    await Promise.all([
      show(api("overlap", body({})), renderOverlap), show(api("profile", body({})), renderProfile),
      show(api("sample", body({n: 10})), renderSample),
      show(api("compile", body({dialect: $("dialect").value})), (d) => { $("sql").textContent = d.sql; })]);
  }

  function renderOverlap(d) {
    $("overlap").innerHTML = "<table><tr><th>segment</th><th>both</th><th>of this</th><th></th></tr>" +
      d.segments.slice(0, 15).map((s) => `<tr><td>${esc(s.name)}</td><td class="num">${s.both}</td>` +
        `<td class="num">${pct(s.share_of_expression)}</td><td>${bar(s.share_of_expression)}</td></tr>`).join("") + "</table>" +
      (d.withheld.length ? `<p class="note">not shown (they read sensitive data): ${d.withheld.map(esc).join(", ")}</p>` : "");
  }

  function renderProfile(p) {
    let h = "<table><tr><th>feature</th><th>segment</th><th>population</th><th></th></tr>";
    for (const n of p.numeric) {
      const top = Math.max(Math.abs(n.mean || 0), Math.abs(n.population_mean || 0)) || 1;
      h += `<tr><td>${esc(n.feature)} (mean)</td><td class="num">${num(n.mean)}</td><td class="num">${num(n.population_mean)}</td>` +
        `<td>${bar((n.mean || 0) / top)}<br>${bar((n.population_mean || 0) / top, "pop")}</td></tr>`;
    }
    for (const c of p.categorical) {
      for (const [value, inside, pop] of c.values) {
        h += `<tr><td>${esc(c.feature)} = ${esc(value)}</td><td class="num">${pct(inside)}</td><td class="num">${pct(pop)}</td>` +
          `<td>${bar(inside)}<br>${bar(pop, "pop")}</td></tr>`;
      }
    }
    $("profile").innerHTML = h + "</table>";
  }

  function renderSample(s) {
    $("sample").innerHTML = "<table><tr>" + s.columns.map((c) => `<th>${esc(c)}</th>`).join("") + "</tr>" +
      s.rows.map((r) => "<tr>" + s.columns.map((c) => `<td>${esc(r[c] == null ? "" : r[c])}</td>`).join("") + "</tr>").join("") +
      "</table>" + (s.masked.length ? `<p class="help">masked (sensitive): ${esc(s.masked.join(", "))}</p>` : "");
  }

  async function segments() {
    const r = await api("segments", body({}));
    if (!r.ok) return;
    if (!$("dialect").options.length) {
      for (const d of r.data.dialects) $("dialect").insertAdjacentHTML("beforeend", `<option${d === r.data.dialect ? " selected" : ""}>${esc(d)}</option>`);
    }
    $("segments").innerHTML = "<table>" + r.data.segments.map((s) =>
      `<tr><td>${esc(s.name)}</td><td class="num">${s.count}</td><td class="num">${pct(s.share)}</td><td>${bar(s.share)}</td></tr>`).join("") + "</table>";
  }

  async function save() {
    const path = $("save-path").value.trim();
    const stem = path.split("/").pop().replace(/\.seg$/, "");
    let text = editor.text();
    if (!/^\s*(@|##|#|segment\b|segmentation\b)/.test(text)) text = `segment ${stem} = ${text}\n`;
    const r = await api("save", {path, text});
    $("save-status").textContent = r.ok ? `saved ${r.data.path}` : (r.data.diagnostics || []).map((d) => d.code + " " + d.message).join("; ");
    if (r.ok) segments();
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 40);  // short: the count takes ~20 ms, the target is 100 ms from the key
  }

  window.addEventListener("DOMContentLoaded", () => {
    editor = SegcEditor.create($("editor"), "", schedule);
    window.segcEditor = editor;
    $("dialect").addEventListener("change", schedule);
    $("as-of").addEventListener("change", () => { schedule(); segments(); });
    $("save").addEventListener("click", save);
    segments();
  });
})();
