;; One iteration of label spreading, F' = α·S·F + Y0, over a CSR matrix S,
;; with 128-bit SIMD: four classes per lane group. The source of
;; lib/graph/spread_kernel_wasm.ts (`deno task build:wasm` assembles it).
;;
;; Rows of F, F' and Y0 are `stride` floats apart, stride a multiple of 4
;; (the caller pads the class count). All pointers are byte offsets into the
;; exported memory; rowPtr and col are i32, val and the rows f32.
(module
  (memory (export "memory") 1)

  ;; Rows of 12 floats (9 to 12 classes, MNIST's 10): all three lane groups
  ;; of a neighbour's row per edge, so each edge's index and weight are read
  ;; once.
  (func (export "step3")
    (param $n i32) (param $rp i32) (param $col i32) (param $val i32)
    (param $y0 i32) (param $src i32) (param $dst i32) (param $alpha f32)
    (local $i i32) (local $e i32) (local $end i32) (local $p i32) (local $o i32)
    (local $w v128) (local $va v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128)
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $e (i32.load (local.get $rp)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $end
          (i32.load
            (i32.add (local.get $rp)
              (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 2)))))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0))
        (block $edges_done
          (loop $edges
            (br_if $edges_done (i32.ge_u (local.get $e) (local.get $end)))
            (local.set $w
              (f32x4.splat
                (f32.load
                  (i32.add (local.get $val) (i32.shl (local.get $e) (i32.const 2))))))
            (local.set $p
              (i32.add (local.get $src)
                (i32.mul
                  (i32.load
                    (i32.add (local.get $col) (i32.shl (local.get $e) (i32.const 2))))
                  (i32.const 48))))
            (local.set $a0
              (f32x4.add (local.get $a0)
                (f32x4.mul (local.get $w) (v128.load (local.get $p)))))
            (local.set $a1
              (f32x4.add (local.get $a1)
                (f32x4.mul (local.get $w) (v128.load offset=16 (local.get $p)))))
            (local.set $a2
              (f32x4.add (local.get $a2)
                (f32x4.mul (local.get $w) (v128.load offset=32 (local.get $p)))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $edges)))
        (local.set $o (i32.mul (local.get $i) (i32.const 48)))
        (v128.store (i32.add (local.get $dst) (local.get $o))
          (f32x4.add
            (f32x4.mul (local.get $va) (local.get $a0))
            (v128.load (i32.add (local.get $y0) (local.get $o)))))
        (v128.store offset=16 (i32.add (local.get $dst) (local.get $o))
          (f32x4.add
            (f32x4.mul (local.get $va) (local.get $a1))
            (v128.load offset=16 (i32.add (local.get $y0) (local.get $o)))))
        (v128.store offset=32 (i32.add (local.get $dst) (local.get $o))
          (f32x4.add
            (f32x4.mul (local.get $va) (local.get $a2))
            (v128.load offset=32 (i32.add (local.get $y0) (local.get $o)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; Any stride: one lane group (four classes, `off` bytes into each row) per
  ;; call; the caller walks the groups. Each lane sums the same products in
  ;; the same order as step3, so both give the same bits.
  (func (export "step1")
    (param $n i32) (param $rp i32) (param $col i32) (param $val i32)
    (param $y0 i32) (param $src i32) (param $dst i32) (param $alpha f32)
    (param $stride i32) (param $off i32)
    (local $i i32) (local $e i32) (local $end i32) (local $o i32)
    (local $a0 v128)
    (local.set $e (i32.load (local.get $rp)))
    (local.set $src (i32.add (local.get $src) (local.get $off)))
    (local.set $dst (i32.add (local.get $dst) (local.get $off)))
    (local.set $y0 (i32.add (local.get $y0) (local.get $off)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $end
          (i32.load
            (i32.add (local.get $rp)
              (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 2)))))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (block $edges_done
          (loop $edges
            (br_if $edges_done (i32.ge_u (local.get $e) (local.get $end)))
            (local.set $a0
              (f32x4.add (local.get $a0)
                (f32x4.mul
                  (f32x4.splat
                    (f32.load
                      (i32.add (local.get $val) (i32.shl (local.get $e) (i32.const 2)))))
                  (v128.load
                    (i32.add (local.get $src)
                      (i32.mul
                        (i32.load
                          (i32.add (local.get $col) (i32.shl (local.get $e) (i32.const 2))))
                        (local.get $stride)))))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $edges)))
        (local.set $o (i32.mul (local.get $i) (local.get $stride)))
        (v128.store (i32.add (local.get $dst) (local.get $o))
          (f32x4.add
            (f32x4.mul (f32x4.splat (local.get $alpha)) (local.get $a0))
            (v128.load (i32.add (local.get $y0) (local.get $o)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))))
