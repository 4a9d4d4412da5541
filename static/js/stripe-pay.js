// The card payment page: Stripe's card element, then Stripe.js confirms the PaymentIntent (and
// runs 3-D Secure when the bank asks). The shop's return page then asks Stripe what happened:
// nothing here decides whether the payment succeeded.
(function () {
  "use strict";
  var root = document.getElementById("stripe-pay");
  if (!root || typeof Stripe !== "function") {
    return;
  }
  root.hidden = false;
  document.getElementById("card-unavailable").hidden = true;
  // Stripe.js writes its own messages (a declined card…) in the page's language.
  var stripe = Stripe(root.dataset.publishableKey, { locale: root.dataset.locale || "auto" });
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  var form = document.getElementById("stripe-pay-form");
  var button = form.querySelector("button[type=submit]");
  var errors = document.getElementById("card-errors");
  var clientSecret = root.dataset.clientSecret;

  function finish(result) {
    if (result && result.error) {
      errors.textContent = result.error.message || root.dataset.failedMessage;
      button.disabled = false;
      return;
    }
    window.location.assign(root.dataset.returnUrl);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    stripe.confirmCardPayment(clientSecret, { payment_method: { card: card } }).then(finish, finish);
  });

  // Back on the page with a payment that waits for the bank's confirmation (3-D Secure).
  if (root.dataset.needsAction === "true") {
    button.disabled = true;
    stripe.confirmCardPayment(clientSecret).then(finish, finish);
  }
})();
