;; export: wbox:test/faulty@0.1.0
;;
;; A box that misbehaves on demand, for the kernel's supervision tests:
;;
;;   add(a, b)  a + b: a healthy call
;;   work(n)    n rounds of xorshift32 from 1: CPU work of a chosen size
;;   trap()     traps (unreachable)
;;   spin()     loops forever: only a deadline stops it
;;   bomb()     grows memory one page at a time until a grow fails, then
;;              traps: only a memory quota stops it
;;   pages()    the current memory size in 64 KiB pages
;;
;; Only primitive types, so the interface needs no type exports and no
;; canonical options.
(component
  (core module $M
    (memory (export "memory") 1)
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    (func (export "work") (param $n i32) (result i32)
      (local $x i32)
      (local.set $x (i32.const 1))
      (block $done
        (loop $round
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
          (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
          (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $round)))
      (local.get $x))
    (func (export "trap") unreachable)
    (func (export "spin") (loop $forever (br $forever)))
    (func (export "bomb") (result i32)
      (loop $grow
        (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
      unreachable)
    (func (export "pages") (result i32) (memory.size))
  )
  (core instance $m (instantiate $M))

  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $m "add")))
  (func $work (param "n" u32) (result u32) (canon lift (core func $m "work")))
  (func $trap (canon lift (core func $m "trap")))
  (func $spin (canon lift (core func $m "spin")))
  (func $bomb (result u32) (canon lift (core func $m "bomb")))
  (func $pages (result u32) (canon lift (core func $m "pages")))

  (instance $iface
    (export "add" (func $add))
    (export "work" (func $work))
    (export "trap" (func $trap))
    (export "spin" (func $spin))
    (export "bomb" (func $bomb))
    (export "pages" (func $pages))
  )
  (export "wbox:test/faulty@0.1.0" (instance $iface))
)
