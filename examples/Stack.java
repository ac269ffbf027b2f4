// A small example class with a seeded off-by-one bug in pop().
public class Stack {
    private int[] items = new int[16];
    private int size = 0;

    public void push(int value) {
        if (size == items.length) {
            items = java.util.Arrays.copyOf(items, size * 2);
        }
        items[size++] = value;
    }

    public int pop() {
        if (size == 0) {
            throw new IllegalStateException("empty stack");
        }
        return items[size];
    }

    public boolean isEmpty() {
        return size == 0;
    }
}
