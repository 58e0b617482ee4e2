// Live job progress: poll the API until the job finishes; no page reload.
(function () {
  const root = document.getElementById("job");
  if (!root) return;
  const api = root.dataset.api;
  const finished = new Set(["succeeded", "failed", "cancelled"]);
  const $ = (id) => document.getElementById(id);
  function fmtEta(s) {
    if (s === null || s === undefined) return "";
    if (s < 90) return `about ${Math.round(s)} s left`;
    return `about ${Math.round(s / 60)} min left`;
  }
  async function poll() {
    let job;
    try {
      const response = await fetch(api, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(response.status);
      job = await response.json();
    } catch (err) {
      setTimeout(poll, 3000);
      return;
    }
    const status = $("job-status");
    status.textContent = job.status;
    status.className = `badge ${job.status}`;
    $("job-stage").textContent = job.stage || "—";
    const total = job.progress_total;
    $("job-progress").textContent = `${job.progress_done}${total ? " / " + total : ""} ${job.progress_unit}`;
    $("job-bar").style.width = `${total ? Math.min(100, (100 * job.progress_done) / total) : 0}%`;
    $("job-eta").textContent = finished.has(job.status) ? "" : fmtEta(job.eta_seconds);
    const error = $("job-error");
    error.hidden = !job.error_summary;
    error.textContent = job.error_summary || "";
    if (Object.keys(job.result || {}).length) $("job-result").textContent = JSON.stringify(job.result, null, 2);
    if (finished.has(job.status)) {
      const form = $("cancel-form");
      if (form) form.remove();
      return;
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
