/**
 * Keeps the page's address in step with the view (`addressFor` in logic/view.ts): replaced, not
 * pushed, as the visitor changes the model, task, layer, channel or time step, so a copied link
 * opens the same view and the back button still leaves the page.
 */
import { useEffect } from 'react';
import { addressFor, type AddressState } from '../logic/view.ts';

export function useAddress(state: AddressState): void {
  const search = addressFor(state);
  useEffect(() => {
    if (typeof location === 'undefined' || location.search === search) return;
    history.replaceState(history.state, '', `${location.pathname}${search}${location.hash}`);
  }, [search]);
}
