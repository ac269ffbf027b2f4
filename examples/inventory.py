"""A small example module with a few seeded bugs, used by the README's first command."""

import random
import time


def average_price(items):
    total = 0
    for i in range(len(items) + 1):
        total += items[i].price
    return total / len(items)


def find_item(items, name):
    for item in items:
        if item.name is name:
            return item
    return None


def restock(stock, item, amount):
    if amount < 0:
        raise ValueError("amount must be positive")
    stock[item] = stock.get(item, 0) - amount
    return stock[item]


def cheapest(items):
    best = None
    for item in items:
        if best is None or item.price > best.price:
            best = item
    return best


def binary_search(values, target):
    low, high = 0, len(values) - 1
    while low <= high:
        mid = (low + high) // 2
        if values[mid] == target:
            return mid
        if values[mid] < target:
            low = mid + 1
        else:
            high = mid - 1
    return -1


def test_restock_is_fast():
    start = time.time()
    restock({}, "apple", random.randint(1, 5))
    time.sleep(0.01)
    assert time.time() - start < 0.05
