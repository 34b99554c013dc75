;; export: wbox:test/waiter@0.1.0
;;
;; A box whose only export, run(), returns what its import
;; wbox:test/gate@0.1.0#wait returns. The kernel tests bind the import to a
;; native gate that blocks until enough callers wait at once, which proves
;; that calls run in parallel on an instance pool without timing anything.
(component
  (import "wbox:test/gate@0.1.0" (instance $gate
    (export "wait" (func (result u32)))
  ))
  (alias export $gate "wait" (func $wait))
  (core func $wait-lowered (canon lower (func $wait)))

  (core module $M
    (import "gate" "wait" (func $wait (result i32)))
    (func (export "run") (result i32) (call $wait))
  )
  (core instance $m (instantiate $M
    (with "gate" (instance (export "wait" (func $wait-lowered))))
  ))

  (func $run (result u32) (canon lift (core func $m "run")))
  (instance $iface (export "run" (func $run)))
  (export "wbox:test/waiter@0.1.0" (instance $iface))
)
