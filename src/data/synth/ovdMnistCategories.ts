// The 20 OVD-MNIST categories: MNIST digits and Fashion-MNIST classes, split into base and novel halves.
// Synsets follow WordNet 3.0 / NLTK names (LVIS style); 'ankle boot' has no synset of its own: boot.n.01.

export type Split = 'base' | 'novel';

export interface OvdMnistCategory {
  id: number;                      // COCO category id (1-based, in this order)
  name: string;
  split: Split;
  synset: string;
  source: 'mnist' | 'fashion';
  label: number;                   // class index in its source dataset
}

const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine',
  't-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'] as const;

export const BASE_NAMES: readonly string[] = ['zero', 'two', 'four', 'six', 'eight', 't-shirt', 'pullover', 'coat', 'sandal', 'bag'];
export const NOVEL_NAMES: readonly string[] = ['one', 'three', 'five', 'seven', 'nine', 'trouser', 'dress', 'shirt', 'sneaker', 'ankle boot'];

const SYNSETS: Record<string, string> = {
  zero: 'zero.n.02', one: 'one.n.01', two: 'two.n.01', three: 'three.n.01', four: 'four.n.01',
  five: 'five.n.01', six: 'six.n.01', seven: 'seven.n.01', eight: 'eight.n.01', nine: 'nine.n.01',
  't-shirt': 'jersey.n.03', trouser: 'trouser.n.01', pullover: 'pullover.n.01', dress: 'dress.n.01',
  coat: 'coat.n.01', sandal: 'sandal.n.01', shirt: 'shirt.n.01', sneaker: 'gym_shoe.n.01',
  bag: 'bag.n.04', 'ankle boot': 'boot.n.01',
};

export const OVD_MNIST_CATEGORIES: readonly OvdMnistCategory[] = NAMES.map((name, i) => ({
  id: i + 1,
  name,
  split: BASE_NAMES.includes(name) ? 'base' : 'novel',
  synset: SYNSETS[name]!,
  source: i < 10 ? 'mnist' : 'fashion',
  label: i % 10,
}));

/** The tint colours objects are drawn in (name -> RGB). */
export const COLORS: readonly { name: string; rgb: [number, number, number] }[] = [
  { name: 'red', rgb: [230, 40, 40] },
  { name: 'green', rgb: [40, 200, 60] },
  { name: 'blue', rgb: [50, 90, 240] },
  { name: 'yellow', rgb: [245, 230, 50] },
  { name: 'orange', rgb: [250, 140, 20] },
  { name: 'purple', rgb: [160, 60, 220] },
  { name: 'white', rgb: [250, 250, 250] },
  { name: 'cyan', rgb: [40, 230, 230] },
];
