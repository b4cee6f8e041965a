import Foundation
import Testing

import SpiqaIO

@Suite("NPY arrays against numpy-written fixtures")
struct NPYTests {
  @Test("manifest lists the fixtures") func manifestPresent() {
    #expect(Fixtures.arrayNames.count >= 60)
  }

  @Test("reads every dtype, shape, byte order, version and memory order", arguments: Fixtures.arrayNames)
  func readsFixture(name: String) throws {
    let entry = try #require(Fixtures.manifest[name])
    let array = try NPY.decode(try Fixtures.bytes(name), source: name)
    #expect(array.dtype.rawValue == entry.dtype)
    #expect(array.shape == entry.shape)
    #expect(array.bytes.count == array.count * array.dtype.itemSize)
    let expected = (entry.values ?? []).map { Float($0) }
    #expect(try array.floats() == expected)
  }

  @Test("writes byte-identical files to numpy.save", arguments: Fixtures.arrayNames.filter { Fixtures.manifest[$0]?.numpy_written == true })
  func byteIdentical(name: String) throws {
    let bytes = try Fixtures.bytes(name)
    let array = try NPY.decode(bytes)
    #expect(NPY.encode(array) == bytes)
  }

  @Test("big-endian and Fortran-order arrays come out little-endian C-order equal to the plain ones")
  func conversions() throws {
    let be = try NPY.decode(try Fixtures.bytes("be_i8_2x3.npy"))
    let le = try NPY.decode(try Fixtures.bytes("i8_2x3.npy"))
    #expect(be == le)
    let f = try NPY.decode(try Fixtures.bytes("fortran_f4_2x3x4.npy"))
    #expect(f.shape == [2, 3, 4])
    // values(f4, (2,3,4)) in C order: (k - 2) * 0.75 + 0.125
    #expect(try f.floats() == (0..<24).map { Float(Double($0 - 2) * 0.75 + 0.125) })
  }

  @Test("header layout: 64-byte alignment, growth spaces, shape spelling")
  func headerLayout() {
    for shape in [[], [0], [5], [2, 3], [123456, 0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] {
      let h = NPY.headerBytes(dtype: .float32, shape: shape)
      #expect(h.count % 64 == 0)
      #expect(h.last == 0x0A)
      #expect(Array(h[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
    }
    let text = String(decoding: NPY.headerBytes(dtype: .uint8, shape: [5]).dropFirst(10), as: UTF8.self)
    #expect(text.hasPrefix("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }" + String(repeating: " ", count: 20)))
    let scalar = String(decoding: NPY.headerBytes(dtype: .float16, shape: []).dropFirst(10), as: UTF8.self)
    #expect(scalar.hasPrefix("{'descr': '<f2', 'fortran_order': False, 'shape': (), }"))
  }

  @Test("numpy's header strictness", arguments: [
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'layer': 3}", "keys"),
    ("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "not a valid bool"),
    ("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", "Python literal"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "shape is not valid"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", "shape is not valid"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'a')}", "shape is not valid"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "negative"),
    ("{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}", "unsupported NPY dtype"),
    ("{'descr': 4, 'fortran_order': False, 'shape': (2,)}", "descr"),
    ("[1, 2]", "not a dictionary"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999)}", "too large"),
  ])
  func strictHeaders(header: String, message: String) throws {
    var h = Array(header.utf8) + [0x0A]
    let bytes = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.count & 255), UInt8(h.count >> 8)] + h
    h = bytes
    let error = #expect(throws: SpiqaIOError.self) { try NPY.decode(h, source: "hdr") }
    #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
    #expect(error?.exitCode == 65)
  }

  @Test("accepted header variants: double quotes, any key order, no padding, (5L)-free Python 2 style ints")
  func lenientHeaders() throws {
    for header in [
      "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i2\"}",
      "{'descr':'<i2','fortran_order':False,'shape':(2,)}",
      "{'descr': 'i2', 'fortran_order': False, 'shape': (2,), }   ",
    ] {
      let h = Array(header.utf8)
      let bytes = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.count), 0] + h + [1, 0, 2, 0]
      let a = try NPY.decode(bytes)
      #expect(a.dtype == .int16 && a.shape == [2] && a.bytes == [1, 0, 2, 0])
    }
  }

  @Test("header longer than numpy's 10000-character limit is refused")
  func maxHeader() {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" + String(repeating: " ", count: 10_001)
    let h = Array(header.utf8)
    let bytes = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, UInt8(h.count & 255), UInt8((h.count >> 8) & 255), 0, 0] + h
    let e = #expect(throws: SpiqaIOError.self) { try NPY.decode(bytes) }
    #expect(e?.description.contains("limit") == true)
  }

  @Test("float16 values round to nearest and decode back")
  func float16() throws {
    let a = NPYArray(float16: [0, 1, -2.5, 65504, 1e-8, 0.1], shape: [6])
    let back = try a.floats()
    #expect(back[0] == 0 && back[1] == 1 && back[2] == -2.5 && back[3] == 65504)
    #expect(back[4] == 0 || back[4] < 1e-7)
    #expect(abs(back[5] - 0.1) < 1e-4)
  }
}
