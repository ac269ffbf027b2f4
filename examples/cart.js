// A small example module with a seeded bug (the discount is applied the wrong way round).

function cartTotal(lines) {
  let total = 0;
  for (let i = 0; i < lines.length; i++) {
    total += lines[i].price * lines[i].quantity;
  }
  return total;
}

function applyDiscount(total, percent) {
  if (percent < 0 || percent > 100) {
    throw new RangeError("percent out of range");
  }
  return total * (1 + percent / 100);
}

const isEmpty = (lines) => lines.length === 0;

module.exports = { cartTotal, applyDiscount, isEmpty };
