/** The page's view of the data set: keys, names, and what it accepts from the server. */
import { assertEquals } from "./assert.ts";
import {
  classForKey,
  className,
  dataset,
  keyForClass,
  MNIST_VIEW,
  setDataset,
} from "../lib/client/dataset.ts";

Deno.test("keys: the digit itself for MNIST; 1-9 then 0 for named classes", () => {
  assertEquals(classForKey("7", MNIST_VIEW), 7);
  assertEquals(classForKey("0", MNIST_VIEW), 0);
  assertEquals(keyForClass(0, MNIST_VIEW), "0");
  const pets = {
    ...MNIST_VIEW,
    kind: "images" as const,
    classes: ["cat", "dog", "bird"],
  };
  assertEquals(classForKey("1", pets), 0);
  assertEquals(classForKey("3", pets), 2);
  assertEquals(classForKey("4", pets), null);
  assertEquals(classForKey("0", pets), null);
  assertEquals(classForKey("x", pets), null);
  assertEquals(keyForClass(2, pets), "3");
  const ten = { ...pets, classes: "abcdefghij".split("") };
  assertEquals(classForKey("0", ten), 9);
  assertEquals(keyForClass(9, ten), "0");
  assertEquals(className(1, pets), "dog");
});

Deno.test("setDataset takes a valid description and ignores a broken one", () => {
  try {
    setDataset({
      kind: "images",
      name: "pets",
      classes: ["cat", "dog"],
      rows: 32,
      cols: 32,
      channels: 3,
    });
    assertEquals(dataset.value.classes, ["cat", "dog"]);
    assertEquals(dataset.value.channels, 3);
    for (
      const bad of [
        null,
        { classes: [], rows: 28, cols: 28, channels: 1 },
        // More classes than MAX_CLASSES (100).
        { classes: Array(101).fill("x"), rows: 28, cols: 28, channels: 1 },
        { classes: ["a"], rows: 28, cols: 28, channels: 2 },
        { classes: ["a"], rows: 0, cols: 28, channels: 1 },
      ]
    ) {
      setDataset(bad);
      assertEquals(dataset.value.name, "pets");
    }
  } finally {
    dataset.value = MNIST_VIEW;
  }
});
