document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const address = document.getElementById(button.getAttribute("aria-controls"));
  const clipboard = navigator.clipboard;
  const copied = clipboard ? clipboard.writeText(address.value) : Promise.reject();
  copied.then(() => { button.textContent = button.dataset.copied; }, () => address.select());
});
