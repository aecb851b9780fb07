// The one piece of client behaviour: a run page polls its run's status and reloads when the
// run has finished (no framework; the pages work without it, by reloading by hand).
(function () {
  const box = document.getElementById("progress");
  if (!box) return;
  const bar = box.querySelector("progress");
  const label = box.querySelector(".status");
  async function poll() {
    try {
      const r = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
      const s = await r.json();
      bar.value = s.progress;
      label.textContent = s.status + " (" + Math.round(100 * s.progress) + " %)";
      if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
    } catch (e) { label.textContent = "lost contact; retrying"; }
    setTimeout(poll, 700);
  }
  setTimeout(poll, 400);
})();
