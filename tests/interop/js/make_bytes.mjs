// The ESC/POS bytes receipt-printer-encoder 4 and receiptline 4 produce for each feature the
// interop tests print: one JSON object {feature name: hex string} on stdout.
import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';
import receiptline from 'receiptline';
import { PNG } from 'pngjs';

// a 200 x 64 test picture as RGBA: a frame and a diagonal (any misplaced column shows)
function picture() {
  const width = 200, height = 64, data = new Uint8ClampedArray(width * height * 4).fill(255);
  const black = (x, y) => { data.fill(0, (y * width + x) * 4, (y * width + x) * 4 + 3); };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const frame = (x >= 4 && x < 196 && y >= 4 && y < 60) && (x < 8 || x >= 192 || y < 8 || y >= 56);
      if (frame || Math.abs(y - Math.round(x * 63 / 199)) <= 1) black(x, y);
    }
  }
  return { width, height, data };
}

// the same picture as a PNG, for receiptline's {image:…}
function picturePng() {
  const { width, height, data } = picture();
  const png = new PNG({ width, height });
  png.data = Buffer.from(data.buffer);
  return PNG.sync.write(png).toString('base64');
}

const encoder = (options = {}) => new ReceiptPrinterEncoder({ printerModel: 'xprinter-xp-n160ii', ...options });
const rpe = {
  'rpe-text': () => encoder().initialize().codepage('auto')
    .line('Grüße 15,40 € ñ').bold(true).line('bold').bold(false)
    .underline(true).line('underlined').underline(false)
    .invert(true).line('inverted').invert(false)
    .size(2, 2).line('big').size(1, 1).font('B').line('font B').font('A')
    .align('center').line('centred').align('right').line('right').align('left')
    .table([{ width: 30 }, { width: 18, align: 'right' }], [['Coffee', '3,20 €'], ['Charging 12,3 kWh', '15,40 €']])
    .rule().box({ width: 30 }, 'in a box').cut().encode(),
  'rpe-italic': () => encoder().initialize().italic(true).line('italic').italic(false).encode(),
  'rpe-qrcode': () => encoder().initialize().qrcode('https://charge.example.com/r/2024/000123', { model: 2, size: 6, errorlevel: 'm' }).encode(),
  'rpe-pdf417': () => encoder().initialize().pdf417('PDF417 from receipt-printer-encoder').encode(),
  'rpe-image-raster': () => encoder({ imageMode: 'raster' }).initialize().image(picture(), 200, 64, 'threshold').encode(),
  'rpe-image-column': () => encoder({ imageMode: 'column' }).initialize().image(picture(), 200, 64, 'threshold').encode(),
  'rpe-pulse-cut': () => encoder().initialize().line('drawer').pulse().cut('partial').encode(),
};
const SYMBOLOGIES = {
  upca: '01234567890', upce: '0123456', ean13: '400638133393', ean8: '9638507', code39: 'ABC-12',
  itf: '12345678', codabar: 'A40156B', code93: 'CODE93', code128: 'CHG-2024', 'gs1-128': '(01)09501101530003',
  'gs1-databar-omni': '0950110153000', 'gs1-databar-limited': '0950110153000', 'gs1-databar-expanded': '(01)09501101530003',
};
for (const [symbology, value] of Object.entries(SYMBOLOGIES)) {
  // the Xprinter model has no GS1 DataBar: an Epson one sends it (GS k 75-78)
  const model = symbology.startsWith('gs1-databar') ? { printerModel: 'epson-tm-t88vi' } : {};
  rpe[`rpe-barcode-${symbology}`] = () => encoder(model).initialize().align('center').barcode(value, symbology, { height: 60, width: 3, text: 'below' }).encode();
}

const rl = {
  'rl-columns': '^^Receipt\n{width:*,10}\nCoffee | 3.20 €\nCharging 12.3 kWh | 15.40 €\n^TOTAL | ^15.40 €\n',
  'rl-rules': '{border:line; width:20,*}\n-\n|Item | Price|\n-\n|Coffee | 3.20|\n-\n',
  'rl-styles': '`underline` "emphasis" _invert_ ~wide~ ^tall^\nGrüße ñ\n',
  'rl-barcode': '{code:400638133393; option:ean,hri}\n{code:CHG-2024; option:code128,2,72,hri}\n',
  'rl-qrcode': '{code:https://charge.example.com/r/2024/000123; option:qrcode,6,m}\n',
  'rl-image': `{image:${picturePng()}}\n`,
};

const out = {};
for (const [name, make] of Object.entries(rpe)) {
  try { out[name] = Buffer.from(make()).toString('hex'); } catch (e) { out[name] = `error: ${e.message}`; }
}
// 'generic' (ESC/POS Generic: GS v 0 images) is receiptline's choice for printers like this one;
// 'escpos' (Epson's) sends commands the firmware lacks (FS ( A, GS 8 L): printed as well
for (const [name, doc] of Object.entries(rl)) {
  for (const command of ['generic', 'escpos']) {
    const bytes = receiptline.transform(doc, { command, encoding: 'multilingual', cpl: 48, cutting: true, gradient: false });
    out[name.replace('rl-', `rl-${command}-`)] = Buffer.from(bytes, 'binary').toString('hex');
  }
}
process.stdout.write(JSON.stringify(out));
