;; export: wbox:test/relay@0.1.0
;;
;; A box that both imports and exports wbox:test/relay@0.1.0:
;;
;;   record point { x: s32, y: s32 }
;;   call: func(p: point, hops: u32) -> point
;;
;; call(p, 0) returns {x: p.x + 1, y: p.y}; call(p, n) forwards
;; {x: p.x + 1, y: p.y} with n - 1 hops through its import and returns the
;; answer with y + 1. Two relays wired to each other make a chain of arrows
;; (and, with enough hops, a re-entrant call); a relay wired to a leaf
;; (components/testboxes/leaf) is the benchmark's box-to-box call.
;;
;; Canonical ABI: point flattens to (i32 i32), so the core export is
;; (x y hops) -> ptr to the 8-byte result, and the lowered import is
;; (x y hops retptr) -> (). Results live at fixed addresses: the answer at
;; 0, the import's answer at 16; a call is never re-entered, so nothing else
;; is allocated and no realloc or post-return is needed.
(component
  (import "wbox:test/relay@0.1.0" (instance $next
    (type $point-def (record (field "x" s32) (field "y" s32)))
    (export "point" (type $point (eq $point-def)))
    (export "call" (func (param "p" $point) (param "hops" u32) (result $point)))
  ))
  (alias export $next "call" (func $next-call))

  (core module $Mem (memory (export "memory") 1))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "memory" (core memory $memory))
  (core func $next-lowered (canon lower (func $next-call) (memory $memory)))

  (core module $Main
    (import "mem" "memory" (memory 1))
    (import "next" "call" (func $next (param i32 i32 i32 i32)))
    (func (export "call") (param $x i32) (param $y i32) (param $hops i32) (result i32)
      (if (i32.eqz (local.get $hops))
        (then
          (i32.store (i32.const 0) (i32.add (local.get $x) (i32.const 1)))
          (i32.store offset=4 (i32.const 0) (local.get $y))
          (return (i32.const 0))))
      (call $next (i32.add (local.get $x) (i32.const 1)) (local.get $y)
                  (i32.sub (local.get $hops) (i32.const 1)) (i32.const 16))
      (i32.store (i32.const 0) (i32.load (i32.const 16)))
      (i32.store offset=4 (i32.const 0) (i32.add (i32.load offset=4 (i32.const 16)) (i32.const 1)))
      (i32.const 0))
  )
  (core instance $main (instantiate $Main
    (with "mem" (instance $mem))
    (with "next" (instance (export "call" (func $next-lowered))))
  ))

  (type $point (record (field "x" s32) (field "y" s32)))
  (func $call (param "p" $point) (param "hops" u32) (result $point)
    (canon lift (core func $main "call") (memory $memory)))

  ;; An exported interface may only mention types it exports itself: build
  ;; it in a nested component that re-exports point (as echo.wat does).
  (component $Iface
    (type $point-def (record (field "x" s32) (field "y" s32)))
    (import "point-in" (type $point-in (eq $point-def)))
    (import "call-in" (func $call-in (param "p" $point-in) (param "hops" u32) (result $point-in)))
    (export $point "point" (type $point-in))
    (type $call-type (func (param "p" $point) (param "hops" u32) (result $point)))
    (export "call" (func $call-in) (func (type $call-type)))
  )
  (instance $iface (instantiate $Iface
    (with "point-in" (type $point))
    (with "call-in" (func $call))
  ))
  (export "wbox:test/relay@0.1.0" (instance $iface))
)
