;; export: wbox:test/relay@0.1.0
;;
;; The end of a relay chain: exports wbox:test/relay@0.1.0 (see
;; relay/relay.wat) and imports nothing. call(p, hops) returns
;; {x: p.x + 1000, y: p.y}, whatever hops is.
(component
  (core module $Main
    (memory (export "memory") 1)
    (func (export "call") (param $x i32) (param $y i32) (param $hops i32) (result i32)
      (i32.store (i32.const 0) (i32.add (local.get $x) (i32.const 1000)))
      (i32.store offset=4 (i32.const 0) (local.get $y))
      (i32.const 0))
  )
  (core instance $main (instantiate $Main))
  (alias core export $main "memory" (core memory $memory))

  (type $point (record (field "x" s32) (field "y" s32)))
  (func $call (param "p" $point) (param "hops" u32) (result $point)
    (canon lift (core func $main "call") (memory $memory)))

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
